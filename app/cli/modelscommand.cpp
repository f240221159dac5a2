#include "modelscommand.h"

#include "console.h"

#include "detector/detector.h"
#include "models/modeldownloader.h"
#include "models/modelcatalog.h"
#ifdef EDGELENS_HAVE_EVAL
#include "evalrun/modelcheck.h"
#endif

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QUrl>

namespace edgelens {

namespace {

QString whereFound(const ModelManifest &manifest)
{
    QStringList folders;
    for (const ModelFile &file : manifest.files) {
        if (!file.path.isEmpty()) {
            const QString folder = QDir::toNativeSeparators(QFileInfo(file.path).absolutePath());
            if (!folders.contains(folder))
                folders.append(folder);
        }
    }
    return folders.isEmpty() ? QStringLiteral("-") : folders.join(QStringLiteral(", "));
}

int listModels(const ModelCatalog &catalog)
{
    const QList<ModelManifest> models = catalog.all();
    const std::optional<ModelManifest> defaultModel = catalog.defaultModel();
    int nameWidth = 4;
    int familyWidth = 6;
    for (const ModelManifest &m : models) {
        nameWidth = std::max(nameWidth, int(m.name.size()) + 2);
        familyWidth = std::max(familyWidth, int(m.family.size()));
    }
    cli::printOut(QStringLiteral("%1  %2  %3  %4  %5  %6  %7")
                 .arg(QStringLiteral("NAME"), -nameWidth)
                 .arg(QStringLiteral("FAMILY"), -familyWidth)
                 .arg(QStringLiteral("INPUT"), -9)
                 .arg(QStringLiteral("MS/IMAGE"), 8)
                 .arg(QStringLiteral("mAP"), 5)
                 .arg(QStringLiteral("STATUS"), -12)
                 .arg(QStringLiteral("WHERE")));
    QStringList loadProblems;
    for (const ModelManifest &m : models) {
        const bool isDefault = defaultModel && defaultModel->name == m.name;
        QString status;
        QString measured = QStringLiteral("-");
        if (m.isComplete()) {
            // Loaded and timed here, as the server does at startup: what this machine costs, and
            // a model that does not load says why instead of looking usable.
            QString why;
            if (const std::unique_ptr<Detector> detector = createDetector(m, &why)) {
                status = QStringLiteral("found");
                if (m.inputWidth > 0 && !m.fallback) // a cascade's time depends on the photo
                    measured = QString::number(measureMsPerImage(*detector), 'f', 1);
            } else {
                status = QStringLiteral("cannot load");
                loadProblems.append(why);
            }
        } else {
            const int missing = int(m.missingFiles().size());
            status = missing == m.files.size() ? QStringLiteral("missing")
                                               : QStringLiteral("incomplete(%1)").arg(m.files.size() - missing);
        }
        const QString input = m.inputWidth > 0 ? QStringLiteral("%1x%2").arg(m.inputWidth).arg(m.inputHeight)
                                               : QStringLiteral("any");
        cli::printOut(QStringLiteral("%1  %2  %3  %4  %5  %6  %7%8")
                     .arg(m.name + (isDefault ? QStringLiteral(" *") : QString()), -nameWidth)
                     .arg(m.family, -familyWidth)
                     .arg(input, -9)
                     .arg(measured, 8)
                     .arg(m.accuracy.isKnown() ? QString::number(m.accuracy.map, 'f', 3) : QStringLiteral("-"), 5)
                     .arg(status, -12)
                     .arg(whereFound(m))
                     .arg(m.fallback ? QStringLiteral("  (fallback: faces/bodies only)") : QString()));
    }
    cli::printOut(QStringLiteral("\n* default model. MS/IMAGE: one detection on this machine, measured now; mAP: "
                                 "the manifest's recorded accuracy (COCO mAP@[.5:.95] on the dataset it names).\n"
                                 "Searched, in order:"));
    for (const QString &location : catalog.searchedLocations())
        cli::printOut(QStringLiteral("  ") + QDir::toNativeSeparators(location));
    cli::printOut(QStringLiteral("Get a missing model with `edgelens-cli models download NAME` (saved to %1).")
                 .arg(QDir::toNativeSeparators(ModelCatalog::userModelDir())));
    for (const QString &problem : catalog.problems())
        cli::printErr(QStringLiteral("warning: ") + problem);
    for (const QString &problem : std::as_const(loadProblems))
        cli::printErr(QStringLiteral("cannot load: ") + problem);
    return 0;
}

int downloadModels(const ModelCatalog &catalog, const QStringList &names)
{
    if (names.isEmpty()) {
        cli::printErr(QStringLiteral("edgelens-cli models download: name a model; `edgelens-cli models list` shows them"));
        return 64;
    }
    int failures = 0;
    for (const QString &name : names) {
        const std::optional<ModelManifest> manifest = catalog.find(name);
        if (!manifest) {
            cli::printErr(QStringLiteral("%1: no such model; `edgelens-cli models list` shows the known ones").arg(name));
            ++failures;
            continue;
        }
        QList<DownloadFile> files;
        for (const ModelFile &file : manifest->files)
            files.append({file.name, QUrl(file.url), file.sha256});
        const QString target = QDir(ModelCatalog::userModelDir()).filePath(manifest->name);
        cli::printErr(QStringLiteral("%1: downloading %2 file(s) into %3")
                     .arg(manifest->name)
                     .arg(files.size())
                     .arg(QDir::toNativeSeparators(target)));

        ModelDownloader downloader;
        QString lastProgressLine;
        QObject::connect(&downloader, &ModelDownloader::progress, &downloader,
                         [&](const QString &file, qint64 received, qint64 total) {
                             const QString line = total > 0
                                 ? QStringLiteral("  %1: %2%").arg(file).arg(100 * received / total)
                                 : QStringLiteral("  %1: %2 KB").arg(file).arg(received / 1024);
                             if (line != lastProgressLine) {
                                 cli::standardError() << '\r' << line << Qt::flush;
                                 lastProgressLine = line;
                             }
                         });
        QObject::connect(&downloader, &ModelDownloader::fileFinished, &downloader,
                         [&](const QString &file, const QString &) {
                             cli::printErr(QStringLiteral("\r  %1: done, sha256 verified").arg(file));
                             lastProgressLine.clear();
                         });
        QObject::connect(&downloader, &ModelDownloader::fileSkipped, &downloader,
                         [](const QString &file, const QString &) {
                             cli::printErr(QStringLiteral("  %1: already present and verified").arg(file));
                         });
        bool ok = false;
        QString error;
        QObject::connect(&downloader, &ModelDownloader::finished, &downloader, [&](bool success, const QString &why) {
            ok = success;
            error = why;
            QCoreApplication::exit(0);
        });
        downloader.start(files, target);
        QCoreApplication::exec();
        if (!lastProgressLine.isEmpty())
            cli::printErr(QString());
        if (!ok) {
            cli::printErr(QStringLiteral("%1: %2").arg(manifest->name, error));
            ++failures;
        } else {
            cli::printErr(QStringLiteral("%1: ready").arg(manifest->name));
        }
    }
    return failures ? 1 : 0;
}

int verifyModels(const ModelCatalog &catalog, const QStringList &names)
{
    int checked = 0;
    int bad = 0;
    for (const ModelManifest &m : catalog.all()) {
        if (!names.isEmpty() && !names.contains(m.name))
            continue;
        for (const ModelFile &file : m.files) {
            if (file.path.isEmpty()) {
                // Asked for by name, a missing file is a failure; in the full sweep it is just not there.
                if (names.contains(m.name)) {
                    ++bad;
                    cli::printOut(QStringLiteral("%1  %2  missing (get it with `edgelens-cli models download %1`)")
                                      .arg(m.name, file.name));
                }
                continue;
            }
            ++checked;
            if (file.sha256.isEmpty()) {
                cli::printOut(QStringLiteral("%1  %2  no checksum in the manifest  %3").arg(m.name, file.name, file.path));
                continue;
            }
            const QString actual = ModelDownloader::sha256OfFile(file.path);
            if (actual == file.sha256.toLower()) {
                cli::printOut(QStringLiteral("%1  %2  ok  %3").arg(m.name, file.name, file.path));
            } else {
                ++bad;
                cli::printOut(QStringLiteral("%1  %2  MISMATCH (expected %3, got %4)  %5")
                             .arg(m.name, file.name, file.sha256, actual.isEmpty() ? QStringLiteral("unreadable") : actual,
                                  file.path));
            }
        }
    }
    for (const QString &name : names) {
        if (!catalog.find(name)) {
            cli::printErr(QStringLiteral("%1: no such model").arg(name));
            ++bad;
        }
    }
    cli::printErr(QStringLiteral("%1 file(s) checked, %2 bad").arg(checked).arg(bad));
    return bad ? 1 : 0;
}

// A manifest, model folder or weights file given as a path; else a catalog name.
std::optional<ModelManifest> modelNamed(const QString &nameOrPath, const QStringList &extraPaths, QString *error)
{
    if (QFileInfo::exists(nameOrPath)) {
        const ModelCatalog catalog(QStringList{nameOrPath} + extraPaths);
        const QList<ModelManifest> named = catalog.explicitModels();
        if (named.isEmpty()) {
            *error = QStringLiteral("%1: no model there (%2)")
                         .arg(nameOrPath, catalog.problems().join(QStringLiteral("; ")));
            return std::nullopt;
        }
        return named.first();
    }
    const ModelCatalog catalog(extraPaths);
    const std::optional<ModelManifest> m = catalog.find(nameOrPath);
    if (!m)
        *error = QStringLiteral("%1: no such model or file; `edgelens-cli models list` shows the known ones").arg(nameOrPath);
    return m;
}

int checkModel(const QStringList &names, const QString &imagesDir, const QStringList &extraPaths)
{
    if (names.size() != 1) {
        cli::printErr(QStringLiteral("edgelens-cli models check: name one model, manifest, folder or weights file"));
        return 64;
    }
#ifdef EDGELENS_HAVE_EVAL
    QString error;
    const std::optional<ModelManifest> manifest = modelNamed(names.first(), extraPaths, &error);
    if (!manifest) {
        cli::printErr(error);
        return 1;
    }
    QStringList images;
    if (!imagesDir.isEmpty()) {
        if (!QFileInfo(imagesDir).isDir()) {
            cli::printErr(QStringLiteral("edgelens-cli models check: --images %1: not a folder").arg(imagesDir));
            return 64;
        }
        images = ModelCheck::imagesIn(imagesDir);
        if (images.isEmpty()) {
            cli::printErr(QStringLiteral("edgelens-cli models check: --images %1: no images there").arg(imagesDir));
            return 1;
        }
    }
    const std::optional<ModelCheckReport> report = ModelCheck::run(*manifest, images, &error);
    if (!report) {
        cli::printErr(QStringLiteral("cannot load: ") + error);
        return 1;
    }
    cli::printOut(report->toText());
    return report->warnings.isEmpty() ? 0 : 1;
#else
    Q_UNUSED(imagesDir)
    Q_UNUSED(extraPaths)
    cli::printErr(QStringLiteral("edgelens-cli models check: this build has no detector"));
    return 1;
#endif
}

} // namespace

int runModelsCommand(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Model management.\n"
        "  list              models the catalog knows, found or missing, and where it searched\n"
        "  download NAME...  fetch a model's files into your data folder (sha256 checked, resumable)\n"
        "  verify [NAME...]  check the sha256 of every model file found\n"
        "  check MODEL       load a model (name, manifest, folder or weights file), run it on --images\n"
        "                    and report input, outputs, time, scores and boxes, warning when the\n"
        "                    manifest looks wrong for the file (exit code 1)"));
    parser.addHelpOption();
    parser.addPositionalArgument(QStringLiteral("action"), QStringLiteral("list, download, verify or check."));
    const QCommandLineOption modelPath(QStringLiteral("model-path"),
                                       QStringLiteral("Extra model file, folder or manifest to consider (repeatable)."),
                                       QStringLiteral("path"));
    parser.addOption(modelPath);
    const QCommandLineOption imagesOption(QStringLiteral("images"),
                                          QStringLiteral("check: run the model on the images of this folder "
                                                         "(the first %1).").arg(20),
                                          QStringLiteral("dir"));
    parser.addOption(imagesOption);
    parser.process(arguments);

    QStringList positional = parser.positionalArguments();
    const QString action = positional.isEmpty() ? QStringLiteral("list") : positional.takeFirst();
    const ModelCatalog catalog(parser.values(modelPath));
    if (action == QLatin1String("list"))
        return listModels(catalog);
    if (action == QLatin1String("download"))
        return downloadModels(catalog, positional);
    if (action == QLatin1String("verify"))
        return verifyModels(catalog, positional);
    if (action == QLatin1String("check"))
        return checkModel(positional, parser.value(imagesOption), parser.values(modelPath));
    cli::printErr(QStringLiteral("edgelens-cli models: unknown action \"%1\" (list, download, verify, check)").arg(action));
    return 64;
}

} // namespace edgelens

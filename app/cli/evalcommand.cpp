#include "evalcommand.h"

#include "console.h"

#include "models/modelcatalog.h"
#include "eval/evaldataset.h"
#include "evalrun/modelevaluation.h"

#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>

#include <cmath>

#include <unistd.h>

using namespace edgelens;

namespace {

enum ExitCode { Scored = 0, CannotScore = 1, Usage = 2 };

// QCommandLineParser's usage line names only the program; this is its eval command.
QString helpText(const QCommandLineParser &parser)
{
    QString text = parser.helpText();
    const qsizetype at = text.indexOf(QLatin1String(" [options]"));
    if (at >= 0)
        text.insert(at, QLatin1String(" eval"));
    return text;
}

int usageError(const QCommandLineParser &parser, const QString &message)
{
    cli::standardError() << "edgelens-cli eval: " << message << "\n\n" << helpText(parser) << Qt::flush;
    return Usage;
}

int failure(const QString &message)
{
    cli::standardError() << "edgelens-cli eval: " << message << '\n' << Qt::flush;
    return CannotScore;
}

bool writeReport(const QString &path, const QByteArray &content, QString *error)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(content) != content.size() || !file.commit()) {
        *error = QStringLiteral("%1: cannot write the report: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

// The manifest the model came from with "accuracy" set, written where the catalog reads it: the
// user's own manifest in place; for a built-in one, a copy in the per-user model folder (a
// user manifest of the same name replaces the built-in one). Returns the path written.
QString recordAccuracy(const ModelManifest &manifest, const EvalRun &run, const QString &dataset, QString *error)
{
    QFile source(manifest.manifestPath);
    if (!source.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("%1: cannot read the manifest to record the accuracy in: %2")
                     .arg(manifest.manifestPath, source.errorString());
        return {};
    }
    QJsonObject object = QJsonDocument::fromJson(source.read(1024 * 1024)).object();
    ModelManifest::Accuracy accuracy;
    accuracy.map = std::round(run.summary.map * 10000) / 10000;
    accuracy.ap50 = std::round(run.summary.ap50 * 10000) / 10000;
    accuracy.dataset = dataset;
    object.insert(QStringLiteral("accuracy"), accuracy.toJson());
    const bool builtIn = manifest.manifestPath.startsWith(QLatin1Char(':'));
    const QString target = builtIn ? QDir(ModelCatalog::userModelDir()).filePath(manifest.name + QStringLiteral(".json"))
                                   : manifest.manifestPath;
    if (builtIn && !QDir().mkpath(ModelCatalog::userModelDir())) {
        *error = QStringLiteral("%1: cannot create the folder").arg(ModelCatalog::userModelDir());
        return {};
    }
    if (!writeReport(target, QJsonDocument(object).toJson(QJsonDocument::Indented), error))
        return {};
    return target;
}

} // namespace

int runEvalCommand(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Scores a detection model with COCO-style mAP (pycocotools conventions): runs the model on every\n"
        "image of --images, or reads the sidecars of an earlier `edgelens-cli --json` run (--predictions),\n"
        "and compares with the ground truth (a COCO instances JSON file, or a folder of YOLO txt labels)."));
    parser.addHelpOption();
    const QCommandLineOption modelOption(QStringLiteral("model"),
                                         QStringLiteral("Model name, manifest, model folder or weights file "
                                                        "(default: the default model)."),
                                         QStringLiteral("name"));
    const QCommandLineOption imagesOption(QStringLiteral("images"), QStringLiteral("Folder of images (required)."),
                                          QStringLiteral("dir"));
    const QCommandLineOption annotationsOption(QStringLiteral("annotations"),
                                               QStringLiteral("COCO instances JSON file, or folder of YOLO txt "
                                                              "labels (<image stem>.txt) (required)."),
                                               QStringLiteral("file|dir"));
    const QCommandLineOption predictionsOption(QStringLiteral("predictions"),
                                               QStringLiteral("Score the JSON sidecars in this folder instead of "
                                                              "running a model."),
                                               QStringLiteral("dir"));
    const QCommandLineOption confOption(QStringLiteral("conf"),
                                        QStringLiteral("Score threshold (default 0.001: COCO practice)."),
                                        QStringLiteral("value"), QStringLiteral("0.001"));
    const QCommandLineOption maxDetOption(QStringLiteral("max-det"),
                                          QStringLiteral("Detections kept per image (default 100)."),
                                          QStringLiteral("n"), QStringLiteral("100"));
    const QCommandLineOption nmsOption(QStringLiteral("nms-iou"),
                                       QStringLiteral("NMS IoU threshold (default: the model's own)."),
                                       QStringLiteral("value"));
    const QCommandLineOption jobsOption(QStringLiteral("jobs"),
                                        QStringLiteral("Worker threads, each with its own copy of the model "
                                                       "(default 1; per-image times then include waiting)."),
                                        QStringLiteral("n"), QStringLiteral("1"));
    const QCommandLineOption backendOption(QStringLiteral("backend"),
                                           QStringLiteral("Inference backend: opencv, openvino, cuda."),
                                           QStringLiteral("name"));
    const QCommandLineOption jsonOption(QStringLiteral("json"), QStringLiteral("Print the report as JSON."));
    const QCommandLineOption recordOption(QStringLiteral("record-accuracy"),
                                          QStringLiteral("Write the mAP into the model's manifest as \"accuracy\" "
                                                         "(a built-in model gets a copy in your model folder); "
                                                         "shown by `models list`, the app and the server."));
    const QCommandLineOption outputOption(QStringLiteral("output"),
                                          QStringLiteral("Also write the report to this file (JSON with --json)."),
                                          QStringLiteral("file"));
    parser.addOptions({modelOption, imagesOption, annotationsOption, predictionsOption, confOption, maxDetOption,
                       nmsOption, jobsOption, backendOption, jsonOption, outputOption, recordOption});

    if (!parser.parse(QStringList{QStringLiteral("edgelens-cli eval")} + arguments))
        return usageError(parser, parser.errorText());
    if (parser.isSet(QStringLiteral("help"))) {
        cli::standardOutput() << helpText(parser) << Qt::flush;
        return Scored;
    }
    if (!parser.positionalArguments().isEmpty())
        return usageError(parser, QStringLiteral("unexpected argument \"%1\"").arg(parser.positionalArguments().first()));
    if (!parser.isSet(imagesOption) || !parser.isSet(annotationsOption))
        return usageError(parser, QStringLiteral("--images and --annotations are required"));
    if (parser.isSet(predictionsOption) && (parser.isSet(modelOption) || parser.isSet(backendOption)))
        return usageError(parser, QStringLiteral("--predictions scores an earlier run; it does not take --model or --backend"));

    // The report must never land on an input: not the annotations, nothing inside the folders read.
    if (parser.isSet(outputOption)) {
        const QString output = QFileInfo(parser.value(outputOption)).absoluteFilePath();
        QStringList inputs{parser.value(imagesOption), parser.value(annotationsOption)};
        if (parser.isSet(predictionsOption))
            inputs.append(parser.value(predictionsOption));
        for (const QString &input : std::as_const(inputs)) {
            const QFileInfo info(input);
            const QString path = info.exists() ? info.canonicalFilePath() : info.absoluteFilePath();
            const QString outputCanonical = QFileInfo(QFileInfo(output).absolutePath()).canonicalFilePath()
                + QLatin1Char('/') + QFileInfo(output).fileName();
            if (outputCanonical == path || (info.isDir() && outputCanonical.startsWith(path + QLatin1Char('/'))))
                return usageError(parser, QStringLiteral("--output %1 would write over or into an input (%2)")
                                              .arg(parser.value(outputOption), input));
        }
    }

    bool ok = false;
    const double conf = parser.value(confOption).toDouble(&ok);
    if (!ok || conf < 0 || conf > 1)
        return usageError(parser, QStringLiteral("--conf: expected a number from 0 to 1"));
    const int maxDet = parser.value(maxDetOption).toInt(&ok);
    if (!ok || maxDet < 1 || maxDet > 10000)
        return usageError(parser, QStringLiteral("--max-det: expected a whole number from 1 to 10000"));
    const int jobs = parser.value(jobsOption).toInt(&ok);
    if (!ok || jobs < 1 || jobs > 64)
        return usageError(parser, QStringLiteral("--jobs: expected a whole number from 1 to 64"));
    if (parser.isSet(recordOption) && (parser.isSet(predictionsOption) || conf > 0.01 || maxDet != 100))
        return usageError(parser, QStringLiteral("--record-accuracy records a model's own run at COCO practice "
                                                 "(--conf 0.01 or less, --max-det 100), not --predictions"));
    double nms = -1;
    if (parser.isSet(nmsOption)) {
        nms = parser.value(nmsOption).toDouble(&ok);
        if (!ok || nms <= 0 || nms > 1)
            return usageError(parser, QStringLiteral("--nms-iou: expected a number above 0, at most 1"));
    }

    std::optional<ModelManifest> manifest;
    if (!parser.isSet(predictionsOption)) {
        const QString name = parser.value(modelOption);
        const ModelCatalog catalog;
        manifest = name.isEmpty() ? catalog.defaultModel() : catalog.find(name);
        if (!manifest) {
            return failure((name.isEmpty() ? QStringLiteral("no usable model found")
                                           : QStringLiteral("unknown model \"%1\"").arg(name))
                           + QLatin1Char('\n') + catalog.describeSearch());
        }
        if (!manifest->isComplete()) {
            return failure(QStringLiteral("model %1 is missing %2 (try `edgelens-cli models download %1`)")
                               .arg(manifest->name, manifest->missingFiles().join(QStringLiteral(", "))));
        }
    }

    QString error;
    const int classCount = manifest ? int(manifest->classNames.size()) : 0;
    const std::optional<EvalDataset> dataset =
        EvalDataset::load(parser.value(imagesOption), parser.value(annotationsOption), classCount, &error);
    if (!dataset)
        return failure(error);

    std::optional<EvalRun> run;
    if (manifest) {
        EvalRunOptions options;
        options.confidence = float(conf);
        options.maxDetections = maxDet;
        options.nmsIou = float(nms);
        options.jobs = jobs;
        options.backend = parser.value(backendOption);
        if (manifest->fallback || manifest->family == QLatin1String("cascade"))
            cli::standardError() << "warning: " << manifest->name << " is the last-resort cascade detector; its classes are not "
                  << "the annotations' and its scores mean little\n";
        const bool showProgress = isatty(STDERR_FILENO);
        cli::standardError() << "scoring " << manifest->name << " on " << dataset->images.size() << " images" << Qt::endl;
        run = ModelEvaluation::runDetector(*manifest, *dataset, options, &error, [showProgress](int done, int total) {
            if (showProgress)
                cli::standardError() << '\r' << done << '/' << total << (done == total ? "\n" : "") << Qt::flush;
        });
    } else {
        run = ModelEvaluation::runPredictions(parser.value(predictionsOption), *dataset, maxDet, &error);
    }
    if (!run)
        return failure(error);

    for (const QString &warning : std::as_const(run->warnings))
        cli::standardError() << "warning: " << warning << '\n';
    cli::standardError() << Qt::flush;

    const bool json = parser.isSet(jsonOption);
    const QByteArray report =
        json ? QJsonDocument(run->toJson()).toJson(QJsonDocument::Indented) : run->toText().toUtf8();
    cli::standardOutput() << QString::fromUtf8(report) << Qt::flush;
    if (parser.isSet(outputOption) && !writeReport(parser.value(outputOption), report, &error))
        return failure(error);
    if (!run->summary.isValid())
        return failure(QStringLiteral("nothing to score: no class has ground truth boxes in these images"));
    if (parser.isSet(recordOption)) {
        // the dataset's name: coco128-train for coco128-train/images
        QFileInfo images(QDir::cleanPath(QFileInfo(parser.value(imagesOption)).absoluteFilePath()));
        const QString datasetName = images.fileName() == QLatin1String("images") ? QFileInfo(images.path()).fileName()
                                                                                : images.fileName();
        const QString written = recordAccuracy(*manifest, *run, datasetName, &error);
        if (written.isEmpty())
            return failure(error);
        cli::standardError() << "accuracy recorded in " << QDir::toNativeSeparators(written) << Qt::endl;
    }
    return Scored;
}

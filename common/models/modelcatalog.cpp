#include "modelcatalog.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLoggingCategory>
#include <QSet>
#include <QStandardPaths>
#include <QUrl>

#include <algorithm>

Q_LOGGING_CATEGORY(lcCatalog, "edgelens.models.catalog")

#ifndef EDGELENS_SOURCE_SHARED_DIR
#define EDGELENS_SOURCE_SHARED_DIR ""
#endif
#ifndef EDGELENS_INSTALLED_DATA_DIR
#define EDGELENS_INSTALLED_DATA_DIR ""
#endif

void edgelensInitModelResources(); // modelmanifest.cpp

namespace edgelens {

namespace {

const QString kBuiltinFolder = QStringLiteral(":/edgelens/models");

// Debian's opencv-data first, then a source-built OpenCV's usual prefixes.
const QStringList kCascadeFolders{
    QStringLiteral("/usr/share/opencv4/haarcascades"), QStringLiteral("/usr/share/opencv4/lbpcascades"),
    QStringLiteral("/usr/local/share/opencv4/haarcascades"), QStringLiteral("/usr/local/share/opencv4/lbpcascades"),
};

bool isRegularFile(const QString &path)
{
    const QFileInfo info(path);
    return info.exists() && info.isFile() && info.isReadable();
}

QString urlFileName(const QString &url)
{
    return QUrl(url).fileName();
}

// The installed data folder holds byte-identical copies of the built-in manifests: such a
// "shadowing" changes nothing and is not worth a log line at every start.
bool sameContents(const QString &a, const QString &b)
{
    QFile fa(a);
    QFile fb(b);
    constexpr qint64 manifestLimit = 1 << 20;
    return fa.open(QIODevice::ReadOnly) && fb.open(QIODevice::ReadOnly) && fa.size() < manifestLimit
        && fa.size() == fb.size() && fa.readAll() == fb.readAll();
}

bool envFlag(const char *name)
{
    const QByteArray v = qgetenv(name).trimmed().toLower();
    return !v.isEmpty() && v != "0" && v != "false" && v != "no";
}

} // namespace

ModelCatalog::ModelCatalog(const QStringList &explicitPaths)
{
    m_options.explicitPaths = explicitPaths;
    refresh();
}

ModelCatalog::ModelCatalog(const Options &options)
    : m_options(options)
{
    refresh();
}

QString ModelCatalog::defaultModelName()
{
    return QStringLiteral("picodet-s-320");
}

QString ModelCatalog::userModelDir()
{
    // Shared by the server, the CLI and the app whatever their application names, so a model
    // fetched with `edgelens-cli models download` is found by all three.
    return QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation) + QStringLiteral("/edgelens/models");
}

QList<ModelManifest> ModelCatalog::builtinManifests()
{
    edgelensInitModelResources();
    // Preference order for the default model, then anything else alphabetically.
    static const QStringList preferred{QStringLiteral("picodet-s-320"), QStringLiteral("picodet-s-416"),
                                       QStringLiteral("nanodet-m-320"), QStringLiteral("yolox-nano-640"),
                                       QStringLiteral("yolo-fastest-xl-320"), QStringLiteral("fastestdet-352")};
    QList<ModelManifest> list;
    const QStringList files = QDir(kBuiltinFolder).entryList({QStringLiteral("*.json")}, QDir::Files, QDir::Name);
    for (const QString &file : files) {
        QString error;
        auto manifest = ModelManifest::load(kBuiltinFolder + QLatin1Char('/') + file, &error);
        if (!manifest) {
            qCCritical(lcCatalog).noquote() << "built-in manifest is broken:" << error;
            continue;
        }
        list.append(*manifest);
    }
    std::stable_sort(list.begin(), list.end(), [](const ModelManifest &a, const ModelManifest &b) {
        const auto rank = [](const QString &name) {
            const qsizetype i = preferred.indexOf(name);
            return i < 0 ? preferred.size() : i;
        };
        return rank(a.name) < rank(b.name);
    });
    return list;
}

void ModelCatalog::addRoot(const QString &path, const QString &why)
{
    if (path.isEmpty())
        return;
    const QString absolute = QDir::cleanPath(QFileInfo(path).absoluteFilePath());
    for (const Root &r : std::as_const(m_roots)) {
        if (r.path == absolute)
            return;
    }
    m_roots.append({absolute, why});
}

void ModelCatalog::resolveFiles(ModelManifest &manifest, const QString &preferredFolder) const
{
    for (ModelFile &file : manifest.files) {
        if (!file.path.isEmpty() && isRegularFile(file.path))
            continue;
        file.path.clear();
        QStringList candidates;
        if (!preferredFolder.isEmpty()) {
            candidates << preferredFolder + QLatin1Char('/') + file.name;
        }
        for (const Root &root : m_roots) {
            candidates << root.path + QLatin1Char('/') + manifest.name + QLatin1Char('/') + file.name
                       << root.path + QLatin1Char('/') + file.name;
        }
        for (const QString &candidate : std::as_const(candidates)) {
            if (isRegularFile(candidate)) {
                file.path = QDir::cleanPath(QFileInfo(candidate).absoluteFilePath());
                break;
            }
        }
    }
}

void ModelCatalog::addManifest(ModelManifest manifest, const QString &preferredFolder, bool isExplicit)
{
    for (const ModelManifest &existing : std::as_const(m_models)) {
        if (existing.name == manifest.name) {
            if (isExplicit && !m_explicitNames.contains(manifest.name))
                m_explicitNames.append(manifest.name);
            if (existing.manifestPath != manifest.manifestPath
                && !sameContents(existing.manifestPath, manifest.manifestPath))
                qCDebug(lcCatalog).noquote() << "manifest" << manifest.manifestPath << "shadowed by"
                                             << existing.manifestPath;
            return;
        }
    }
    resolveFiles(manifest, preferredFolder);
    m_models.append(manifest);
    if (isExplicit && !m_explicitNames.contains(manifest.name))
        m_explicitNames.append(manifest.name);
}

void ModelCatalog::scanUserManifests(const QString &root)
{
    QDir dir(root);
    if (!dir.exists())
        return;
    QStringList paths;
    for (const QString &f : dir.entryList({QStringLiteral("*.json")}, QDir::Files | QDir::Readable, QDir::Name))
        paths << dir.filePath(f);
    for (const QString &sub : dir.entryList(QDir::Dirs | QDir::NoDotAndDotDot | QDir::Readable, QDir::Name)) {
        QDir subDir(dir.filePath(sub));
        for (const QString &f : subDir.entryList({QStringLiteral("*.json")}, QDir::Files | QDir::Readable, QDir::Name))
            paths << subDir.filePath(f);
    }
    for (const QString &path : std::as_const(paths)) {
        QString error;
        auto manifest = ModelManifest::load(path, &error);
        if (!manifest) {
            m_problems << error;
            qCWarning(lcCatalog).noquote() << "skipping manifest" << error;
            continue;
        }
        addManifest(*manifest, QFileInfo(path).absolutePath(), false);
    }
}

void ModelCatalog::addExplicit(const QString &path)
{
    const QFileInfo info(path);
    if (!info.exists()) {
        m_problems << QStringLiteral("--model %1: no such file or folder").arg(path);
        return;
    }
    if (info.isDir()) {
        const QString folder = info.absoluteFilePath();
        const qsizetype before = m_models.size();
        const qsizetype namedBefore = m_explicitNames.size();
        scanUserManifests(folder);
        for (qsizetype i = before; i < m_models.size(); ++i)
            m_explicitNames.append(m_models.at(i).name);
        // A folder of weights without a manifest: the built-in manifests whose files it holds.
        for (ModelManifest manifest : builtinManifests()) {
            bool all = true;
            for (const ModelFile &f : manifest.files) {
                if (!isRegularFile(folder + QLatin1Char('/') + f.name)
                    && !isRegularFile(folder + QLatin1Char('/') + manifest.name + QLatin1Char('/') + f.name))
                    all = false;
            }
            if (all) {
                for (ModelFile &f : manifest.files) {
                    const QString direct = folder + QLatin1Char('/') + f.name;
                    f.path = isRegularFile(direct) ? direct
                                                   : folder + QLatin1Char('/') + manifest.name + QLatin1Char('/') + f.name;
                }
                addManifest(manifest, folder, true);
            }
        }
        if (m_explicitNames.size() == namedBefore)
            m_problems << QStringLiteral("--model %1: the folder holds no manifest (*.json) and no known model's files")
                              .arg(path);
        return;
    }
    if (info.suffix().compare(QLatin1String("json"), Qt::CaseInsensitive) == 0) {
        QString error;
        auto manifest = ModelManifest::load(info.absoluteFilePath(), &error);
        if (!manifest) {
            m_problems << error;
            return;
        }
        addManifest(*manifest, info.absolutePath(), true);
        return;
    }
    // A weights file: a manifest next to it (<file>.json or <basename>.json), else a built-in
    // manifest listing this file name (or its upstream name, for files fetched by hand).
    const QStringList siblings{info.absoluteFilePath() + QStringLiteral(".json"),
                               info.absolutePath() + QLatin1Char('/') + info.completeBaseName() + QStringLiteral(".json")};
    for (const QString &sibling : siblings) {
        if (isRegularFile(sibling)) {
            addExplicit(sibling);
            return;
        }
    }
    for (ModelManifest manifest : builtinManifests()) {
        for (ModelFile &f : manifest.files) {
            if (f.name == info.fileName() || urlFileName(f.url) == info.fileName()) {
                f.path = info.absoluteFilePath();
                // Drop any earlier same-name entry: the explicit file must win.
                m_models.erase(std::remove_if(m_models.begin(), m_models.end(),
                                              [&](const ModelManifest &m) { return m.name == manifest.name; }),
                               m_models.end());
                addManifest(manifest, info.absolutePath(), true);
                return;
            }
        }
    }
    m_problems << QStringLiteral("--model %1: no manifest describes this file; write %2.json next to it "
                                 "(see docs/MODELS.md)")
                      .arg(path, info.completeBaseName());
}

void ModelCatalog::refresh()
{
    m_roots.clear();
    m_models.clear();
    m_explicitNames.clear();
    m_problems.clear();

    for (const QString &path : std::as_const(m_options.explicitPaths)) {
        const QFileInfo info(path);
        if (info.exists())
            addRoot(info.isDir() ? info.absoluteFilePath() : info.absolutePath(), QStringLiteral("--model"));
    }
    if (m_options.useEnvironment) {
        const QStringList envFolders = qEnvironmentVariable("EDGELENS_MODEL_PATH").split(QDir::listSeparator(),
                                                                                         Qt::SkipEmptyParts);
        for (const QString &folder : envFolders)
            addRoot(folder, QStringLiteral("EDGELENS_MODEL_PATH"));
    }
    if (m_options.useSharedFolder && !envFlag("EDGELENS_NO_SHARED_MODELS")) {
        QString shared = qEnvironmentVariable("EDGELENS_SHARED_DIR");
        if (shared.isEmpty())
            shared = QString::fromUtf8(EDGELENS_SOURCE_SHARED_DIR);
        if (!shared.isEmpty())
            addRoot(shared + QStringLiteral("/models"), QStringLiteral("shared folder next to the source tree"));
    }
    if (m_options.useInstalledFolder && !QString::fromUtf8(EDGELENS_INSTALLED_DATA_DIR).isEmpty())
        addRoot(QString::fromUtf8(EDGELENS_INSTALLED_DATA_DIR) + QStringLiteral("/models"),
                QStringLiteral("installed data folder"));
    if (m_options.useUserFolder)
        addRoot(userModelDir(), QStringLiteral("your data folder (models download saves here)"));
    for (const QString &folder : kCascadeFolders) {
        if (QFileInfo(folder).isDir())
            addRoot(folder, QStringLiteral("OpenCV cascades, for the fallback"));
    }

    for (const QString &path : std::as_const(m_options.explicitPaths))
        addExplicit(path);
    // User manifests come before the built-in ones so a user can override a built-in model.
    for (const Root &root : std::as_const(m_roots)) {
        if (root.why != QLatin1String("OpenCV cascades, for the fallback"))
            scanUserManifests(root.path);
    }
    for (const ModelManifest &manifest : builtinManifests())
        addManifest(manifest, QString(), false);
}

QList<ModelManifest> ModelCatalog::all() const
{
    return m_models;
}

QList<ModelManifest> ModelCatalog::explicitModels() const
{
    QList<ModelManifest> list;
    for (const QString &name : m_explicitNames) {
        for (const ModelManifest &m : m_models) {
            if (m.name == name)
                list.append(m);
        }
    }
    return list;
}

std::optional<ModelManifest> ModelCatalog::find(const QString &nameOrPath) const
{
    for (const ModelManifest &m : m_models) {
        if (m.name == nameOrPath)
            return m;
    }
    if (!nameOrPath.isEmpty() && QFileInfo::exists(nameOrPath)) {
        Options options = m_options;
        options.explicitPaths = {nameOrPath};
        const QList<ModelManifest> found = ModelCatalog(options).explicitModels();
        if (!found.isEmpty())
            return found.first();
    }
    return std::nullopt;
}

std::optional<ModelManifest> ModelCatalog::findComplete(const QString &nameOrPath, QString *error) const
{
    const std::optional<ModelManifest> manifest = nameOrPath.isEmpty() ? defaultModel() : find(nameOrPath);
    if (!manifest) {
        *error = (nameOrPath.isEmpty() ? QStringLiteral("no usable model found")
                                       : QStringLiteral("unknown model \"%1\"").arg(nameOrPath))
            + QLatin1Char('\n') + describeSearch();
        return std::nullopt;
    }
    if (!manifest->isComplete()) {
        *error = QStringLiteral("model %1 is missing %2 (try `edgelens-cli models download %1`)")
                     .arg(manifest->name, manifest->missingFiles().join(QStringLiteral(", ")));
        return std::nullopt;
    }
    return manifest;
}

std::optional<ModelManifest> ModelCatalog::defaultModel() const
{
    for (const ModelManifest &m : explicitModels()) {
        if (m.isComplete())
            return m;
    }
    // Someone who named a model file or manifest must not silently get a different one; an
    // explicit folder only adds a place to look.
    for (const QString &path : m_options.explicitPaths) {
        if (!QFileInfo(path).isDir())
            return std::nullopt;
    }
    for (const ModelManifest &m : m_models) {
        if (m.name == defaultModelName() && m.isComplete())
            return m;
    }
    for (const ModelManifest &m : m_models) {
        if (!m.fallback && m.family != QLatin1String("cascade") && m.isComplete())
            return m;
    }
    for (const ModelManifest &m : m_models) {
        if ((m.fallback || m.family == QLatin1String("cascade")) && m.isComplete()) {
            ModelManifest fallback = m;
            fallback.fallback = true;
            return fallback;
        }
    }
    return std::nullopt;
}

QStringList ModelCatalog::searchedLocations() const
{
    QStringList list;
    for (const Root &r : m_roots)
        list << r.path;
    return list;
}

QString ModelCatalog::sha256Of(const QString &path, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        if (error)
            *error = QStringLiteral("cannot read %1: %2").arg(path, file.errorString());
        return {};
    }
    QCryptographicHash hash(QCryptographicHash::Sha256);
    if (!hash.addData(&file)) {
        if (error)
            *error = QStringLiteral("cannot read %1: %2").arg(path, file.errorString());
        return {};
    }
    return QString::fromLatin1(hash.result().toHex());
}

bool ModelCatalog::verifyFile(const ModelFile &file, QString *error)
{
    if (file.path.isEmpty()) {
        if (error)
            *error = QStringLiteral("%1 was not found").arg(file.name);
        return false;
    }
    if (file.sha256.isEmpty())
        return true; // the user brought it without a checksum
    const QString actual = sha256Of(file.path, error);
    if (actual.isEmpty())
        return false;
    if (actual != file.sha256) {
        if (error)
            *error = QStringLiteral("%1: sha256 is %2, expected %3 (damaged or a different file)")
                         .arg(file.path, actual, file.sha256);
        return false;
    }
    return true;
}

QStringList ModelCatalog::problems() const
{
    return m_problems;
}

QString ModelCatalog::describeSearch() const
{
    QString text = QStringLiteral("EdgeLens looked for detection models in:\n");
    int i = 1;
    for (const Root &r : m_roots) {
        text += QStringLiteral("  %1. %2 (%3)%4\n")
                    .arg(i++)
                    .arg(r.path, r.why, QFileInfo(r.path).isDir() ? QString() : QStringLiteral(" - does not exist"));
    }
    if (m_roots.isEmpty())
        text += QStringLiteral("  (no folders)\n");
    text += QStringLiteral("Each model's files are looked up as <folder>/<model-name>/<file> and <folder>/<file>.\n");
    text += QStringLiteral("Known models:\n");
    for (const ModelManifest &m : m_models)
        text += QStringLiteral("  ") + m.summary() + QLatin1Char('\n');
    for (const QString &problem : m_problems)
        text += QStringLiteral("Problem: ") + problem + QLatin1Char('\n');
    text += QStringLiteral(
                "To get a model:\n"
                "  edgelens-cli models download %1\n"
                "  or put the files in a folder listed in EDGELENS_MODEL_PATH (e.g. <folder>/%1/%1.onnx),\n"
                "  or pass --model with a weights file, a model folder or a manifest .json (see docs/MODELS.md).\n")
                .arg(defaultModelName());
    return text;
}

} // namespace edgelens

#pragma once

#include "models/modelmanifest.h"

#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace edgelens {

// Finds models: the manifests built into the library plus any *.json a user drops in a
// model folder, each with its files looked up in the search roots, in this order:
//   1. explicit paths (--model: a weights file, a model folder or a manifest .json)
//   2. EDGELENS_MODEL_PATH (folders separated by ':')
//   3. the shared models next to the source tree ($EDGELENS_SHARED_DIR/models, else the build's
//      EDGELENS_SHARED_DIR); skipped when EDGELENS_NO_SHARED_MODELS=1 or Options::useSharedFolder=false
//   4. the installed data folder (<prefix>/share/edgelens/models)
//   5. the per-user data folder (userModelDir(), where `models download` saves)
//   6. OpenCV's cascade folders (/usr/share/opencv4/haarcascades ...), for the fallback only
// In each root a file is found as <root>/<model-name>/<file> or <root>/<file>.
class ModelCatalog final
{
public:
    struct Options
    {
        QStringList explicitPaths;
        bool useSharedFolder = true;
        bool useInstalledFolder = true;
        bool useUserFolder = true;
        bool useEnvironment = true; // EDGELENS_MODEL_PATH
    };

    explicit ModelCatalog(const QStringList &explicitPaths = {});
    explicit ModelCatalog(const Options &options);

    void refresh(); // rescan the disk

    QList<ModelManifest> all() const; // found and missing, files resolved where located
    std::optional<ModelManifest> find(const QString &nameOrPath) const;
    // The first complete model the explicit paths named; else, if any explicit path is a file
    // (or does not exist), nothing (see problems()). Otherwise picodet-s-320 if complete, else the first complete DNN model, else the cascade
    // fallback (fallback = true) if its files exist, else nothing (show describeSearch()).
    std::optional<ModelManifest> defaultModel() const;
    QList<ModelManifest> explicitModels() const; // what the explicit paths named, in order
    // What a command that runs a model wants: the model of that name or path (empty: the
    // default) with all its files, or nothing and *error saying which it is and what to do
    // (unknown: where it looked; incomplete: the missing files and the download command).
    std::optional<ModelManifest> findComplete(const QString &nameOrPath, QString *error) const;

    QStringList searchedLocations() const; // the roots, in search order, as absolute paths
    QString describeSearch() const;        // a "no model found" help text
    QStringList problems() const;          // broken user manifests, explicit paths that failed

    static QString userModelDir();
    // Lower-case hex sha256 of a file; empty with *error when it cannot be read.
    static QString sha256Of(const QString &path, QString *error);
    // The file is located and matches its manifest checksum (when it has one).
    static bool verifyFile(const ModelFile &file, QString *error);
    static QString defaultModelName(); // "picodet-s-320"
    static QList<ModelManifest> builtinManifests();

private:
    struct Root
    {
        QString path;
        QString why; // "--model", "EDGELENS_MODEL_PATH", ...
    };

    void addRoot(const QString &path, const QString &why);
    void resolveFiles(ModelManifest &manifest, const QString &preferredFolder) const;
    void addManifest(ModelManifest manifest, const QString &preferredFolder, bool isExplicit);
    void scanUserManifests(const QString &root);
    void addExplicit(const QString &path);

    Options m_options;
    QList<Root> m_roots;
    QList<ModelManifest> m_models;
    QStringList m_explicitNames;
    QStringList m_problems;
};

} // namespace edgelens

#pragma once

#include "results/annotation.h"
#include "client/clientresult.h"
#include "inputs/imagescanner.h"

#include <QHash>
#include <QJsonObject>
#include <QSet>
#include <QString>

namespace edgelens {

// Saves what a server answered for one input image, keeping the input folder structure:
//   <output>/<relative folder>/<stem>.jpg   the marked-up JPEG
//   <output>/<relative folder>/<stem>.json  the sidecar (docs/CLI.md), when JSON is enabled
// Files are written through QSaveFile, so a crash or a full disk never leaves half a file, and
// a path that is one of the inputs is refused: inputs are never modified.
// The output folder gets a marker file (ImageScanner::outputMarkerName(), a short JSON: tool,
// version, created) with its first result, so that scanning a parent folder later skips the
// results instead of sending them again as new inputs. Only a folder that is EdgeLens's gets
// one: new or empty when the first result goes in, or named `inferenced` (the default), and
// never one that holds the inputs themselves (`--output .`): that would hide the photos.
class ResultWriter final
{
public:
    explicit ResultWriter(const QString &outputDir = QString());

    void setOutputDir(const QString &outputDir);
    QString outputDir() const;
    void setWriteJson(bool enabled); // default false
    bool writeJson() const;
    // The threshold a new sidecar's "detections" are cut at (the app shows and saves what
    // passes it; "below_threshold" keeps the rest). Without a policy everything passes.
    void setThresholdPolicy(const ThresholdPolicy &policy);

    // Call once with the whole input set: gives inputs that would share an output name
    // ("a.jpg" and "a.png", or "a.jpg" in two folders) distinct names ("a.png.jpg"), and
    // remembers every input so that no output can overwrite one. Optional for single writes.
    void planOutputs(const QList<ScannedImage> &images);

    QString outputStem(const ScannedImage &image) const; // "sub/a" relative to the output folder
    QString imageOutputPath(const ScannedImage &image) const;
    QString jsonOutputPath(const ScannedImage &image) const;

    // Writes the JPEG (when the result has one) and the sidecar (when enabled). On failure
    // returns false with *error naming the file and the reason; nothing partial is left.
    // A sidecar that holds a person's work (edited or reviewed) is never replaced: the new
    // answer goes under its "newer_model_output" and the marked-up JPEG of the corrections
    // stays; *kept (when given) says so.
    bool write(const ScannedImage &image, const ClientResult &result, QString *error, bool *kept = nullptr) const;

    // Writes the marker into folder (atomically) unless it is there already or the folder
    // exists, holds something and is not called `inferenced`. False with *error when writing failed.
    static bool markOutputFolder(const QString &folder, QString *error = nullptr);

    // The sidecar at path when it holds a person's work for image; empty otherwise.
    static QJsonObject personalSidecar(const QString &path, const QString &imagePath);

    // The sidecar's content: DetectionResult's JSON plus where it came from.
    static QJsonObject sidecarJson(const ScannedImage &image, const ClientResult &result,
                                   const QString &resultImageName = QString(), double threshold = 0.0);

private:
    bool writeFile(const QString &path, const QByteArray &bytes, const QString &inputPath, QString *error) const;
    void markOutputFolderFor(const ScannedImage &image) const;
    void updateOutputHoldsInputs();

    QString m_outputDir;
    bool m_writeJson = false;
    ThresholdPolicy m_policy{0.0, {}, 0.0};
    QHash<QString, QString> m_stemOverrides; // absolute input path -> output stem
    QSet<QString> m_inputs;                  // canonical input paths
    bool m_outputHoldsInputs = false;        // a planned input lies in the output folder: no marker
};

} // namespace edgelens

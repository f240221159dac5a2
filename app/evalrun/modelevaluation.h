#pragma once

// Scores a model on a dataset: runs a Detector in-process on every image (or reads the
// sidecars of an earlier `edgelens-cli --json` run) and feeds the CocoEvaluator. Lives in
// edgelens_evalrun, the part of the eval folder that needs OpenCV and the detector.

#include "models/modelmanifest.h"
#include "eval/cocoevaluator.h"
#include "eval/evaldataset.h"

#include <QList>
#include <QString>
#include <QStringList>

#include <functional>
#include <optional>

namespace edgelens {

struct EvalRunOptions
{
    float confidence = 0.001f; // COCO practice: keep nearly everything, AP ranks it
    float nmsIou = -1.0f;      // < 0: the model's own
    int maxDetections = 100;
    int jobs = 1;              // worker threads, one Detector each
    QString backend;           // cv::dnn backend name; empty: the default
};

struct EvalRun
{
    EvalSummary summary;
    QString model;
    QString backend;             // "OpenCV/CPU" ...; empty when scoring sidecars
    int jobs = 1;
    double wallSeconds = 0;
    QList<double> imageMs;       // decode + detect per scored image (empty for sidecars)
    double medianMs = 0;
    double p95Ms = 0;
    double detectionsPerImage = 0;
    QStringList warnings;        // images not scored and why, worded for a person

    QJsonObject toJson() const;  // summary.toJson() plus the run's figures
    QString toText() const;
};

class ModelEvaluation final
{
public:
    using Progress = std::function<void(int done, int total)>;

    // Runs the model on every dataset image. nullopt with *error when the model cannot be
    // loaded at all; undecodable images are skipped and named in EvalRun::warnings.
    static std::optional<EvalRun> runDetector(const ModelManifest &manifest, const EvalDataset &dataset,
                                              const EvalRunOptions &options, QString *error,
                                              const Progress &progress = {});

    // Scores sidecars found under predictionsDir (mirroring the images' relative paths).
    // Images without a sidecar count as "nothing found" and are named in the warnings; a
    // malformed sidecar is an error.
    static std::optional<EvalRun> runPredictions(const QString &predictionsDir, const EvalDataset &dataset,
                                                 int maxDetections, QString *error);

    // Nearest-rank percentile (p in 0..100) of unsorted values; 0 for none.
    static double percentile(QList<double> values, double p);
};

} // namespace edgelens

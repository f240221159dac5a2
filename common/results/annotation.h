#pragma once

// What a person made of a model's answer: the corrected boxes, the confidence threshold they
// are shown and saved at, whether the image was reviewed and by whom. Shared by the desktop
// app (which edits it) and the sidecar schema (docs/CLI.md), which stores it next to the
// model's original detections so a correction never replaces what the model said.

#include "protocol/detection.h"

#include <QDateTime>
#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QString>

namespace edgelens {

// Which threshold a result is shown and saved at: the user's value when set, else the
// recommended one of the model that answered (its manifest's default_confidence).
struct ThresholdPolicy
{
    static constexpr double kRequestFloor = 0.1; // what v2 requests ask down to

    double userThreshold = -1; // < 0: the model's default
    QHash<QString, double> modelDefaults;
    double fallback = 0.5; // a model nobody told us about

    double thresholdFor(const QString &model) const;
    // The confidence to request: low enough that the detail view can reveal more later.
    double requestConfidence() const;
};

struct Annotation
{
    // Every box, including those below the threshold (the detail view's slider reveals them).
    // Starts as the model's detections; boxes drawn by hand get confidence 1.
    QList<Detection> boxes;
    double threshold = 0.5;
    bool edited = false;   // boxes differ from the model's because a person changed them
    bool reviewed = false; // a person accepted the image as it is
    QString editedBy;
    QDateTime editedAt;
    QString reviewedBy;
    QDateTime reviewedAt;
    // Model output that arrived after corrections existed (processed again): kept beside
    // them until the user explicitly adopts it.
    bool hasNewerOutput = false;
    DetectionResult newerOutput;

    // At or above the threshold, compared at the three decimals scores travel with.
    static bool passes(const Detection &detection, double threshold);
    void markEdited();
    // The class id markup colours follow; labels a person added (no class id) get a stable
    // one of their own.
    static int colorId(const Detection &detection); // edited now, by the current user

    bool isPersonal() const { return edited || reviewed; } // a re-run must not overwrite it
    QList<Detection> accepted() const; // boxes at or above the threshold: what is exported

    static Annotation fromModel(const DetectionResult &model, double threshold);
    static QString currentUser();
};

namespace sidecar {

// Writes the annotation into a sidecar object (other keys are kept): "detections" is the
// accepted list, "model_detections" the model's own, plus "below_threshold",
// "confidence_threshold", "reviewed", "edited" and who/when.
void writeAnnotation(QJsonObject &sidecar, const DetectionResult &model, const Annotation &annotation);

// Reads a sidecar back. A sidecar written before these keys existed (or by the CLI) gives an
// unedited annotation of its detections. *model gets the model's output; false when the
// sidecar holds no detection data (legacy answers).
bool readAnnotation(const QJsonObject &sidecar, DetectionResult *model, Annotation *annotation);

} // namespace sidecar
} // namespace edgelens

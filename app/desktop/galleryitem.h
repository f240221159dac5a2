#pragma once

// One image in the gallery: where it is, how far processing got and what came back.
// Plain data so the model, the queue and the exporters can pass it around by value.

#include "inputs/imageorigin.h"
#include "protocol/detection.h"
#include "results/annotation.h"

#include <QDateTime>
#include <QMetaType>
#include <QString>
#include <QStringList>

namespace edgelens {

struct GalleryItem
{
    enum class Status {
        Queued,     // waiting for a free request slot
        Sending,    // bytes are being read or written
        Processing, // request sent, waiting for the answer
        Done,
        Failed,     // error says why; "Retry Failed" queues it again
        Cancelled,  // taken off the queue by the user; retried like a failure
    };

    QString path;     // canonical absolute path of the original (never written to)
    ImageOrigin origin; // a photo, or the frame of a video the original was extracted from
    QString fileName; // for display and sorting
    qint64 fileSize = 0;
    QDateTime modified;
    qint64 addedOrder = 0; // increasing per added image; the default sort

    Status status = Status::Queued;
    QString error;
    int attempts = 0;

    QString resultPath;  // marked-up JPEG in the output folder
    QString sidecarPath; // JSON sidecar, empty when disabled or for legacy answers
    QString device;      // "host:port" of the device that produced the result (the sidecar's `device`)
    DetectionResult result;        // the model's own answer (every detection down to the request floor)
    Annotation annotation;         // the boxes as corrected by the user; what is shown and exported
    bool hasDetectionData = false; // false for legacy servers: only the image came back
    bool resultsOnly = false;      // opened from an output folder without sidecars: path is the result
    QStringList labels;            // distinct labels of the accepted boxes, for the label filter
    QString labelSummary;          // "3 person, 1 dog"
    QDateTime finished;
    // Items the gallery shows together under one collapsible cell, e.g. the sampled frames of a
    // video: the group's key (the video's path) and the item's place in it (the frame index).
    // Empty for a photo; set by whoever adds the items, so the gallery needs no notion of video.
    QString group;
    qint64 groupOrder = -1;

    // Labels and summary follow the accepted boxes.
    void refreshLabels();
};

QString statusName(GalleryItem::Status status); // "queued", "sending", ... for people

} // namespace edgelens

Q_DECLARE_METATYPE(edgelens::GalleryItem::Status)

#pragma once

// `edgelens-cli models check`: loads a model and runs it on a few images, collecting what a
// person needs to trust a manifest written for weights they brought (or to see that it does
// not fit them): input, outputs, time, score range, boxes, and warnings on mismatch signs.

#include "models/modelmanifest.h"

#include <QString>
#include <QStringList>

#include <optional>

namespace edgelens {

struct ModelCheckReport
{
    QString model;
    QString family;
    QString manifestPath;
    QStringList files;   // "path (sha256 ok)" and the like
    QString input;       // "320x320, stretch, RGB"
    QString backend;     // "OpenCV/CPU"
    QString outputs;     // shapes at load: "[1, 1600, 80], [1, 1600, 32], ..."
    int images = 0;      // images run
    QStringList skipped; // "a.txt: not a decodable image"
    double medianMs = 0; // detect() per image: preprocess, forward, decode, NMS
    double maxMs = 0;
    int scored = 0;      // boxes kept at confidence 0: the score range's sample
    float minScore = 0;
    float maxScore = 0;
    float defaultConfidence = 0;
    int boxes = 0;       // at the default confidence, all images
    int fewestBoxes = 0; // per image
    int mostBoxes = 0;
    int farOutside = 0;  // of those boxes, how many reached far outside the input before clipping
    QStringList warnings;

    QString toText() const;
};

class ModelCheck final
{
public:
    static constexpr int kMaxImages = 20;
    static constexpr float kLogitFloor = 0.25f; // sigmoid(0) * sigmoid(0): a logit read as such never scores less

    // The image files of a folder run by check(): readable image suffixes, sorted, at most kMaxImages.
    static QStringList imagesIn(const QString &folder);

    // nullopt with *error when the model cannot be loaded (the error says why in words a
    // person can act on) or is not a cv::dnn model. With no images, the report has the load,
    // outputs and a time on a blank canvas, and says that scores and boxes were not checked.
    static std::optional<ModelCheckReport> run(const ModelManifest &manifest, const QStringList &images,
                                               QString *error);
};

} // namespace edgelens

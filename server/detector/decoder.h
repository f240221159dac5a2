#pragma once

#include "detector/modelmanifest.h"

#include <QString>

#include <opencv2/core/mat.hpp>
#include <opencv2/core/types.hpp>

#include <memory>
#include <vector>

namespace edgelens {

// One raw detection as a decoder produces it: before NMS, in input-canvas pixels (the
// network's width x height, i.e. after letterbox or stretch).
struct Candidate
{
    int classId = -1;
    float score = 0.0f;
    cv::Rect2f box; // x, y, width, height on the canvas
};

// Turns one model family's output tensors into candidates. Kept apart from cv::dnn::Net so
// tests can feed synthetic tensors with known answers.
class Decoder
{
public:
    virtual ~Decoder() = default;

    // outputs: the net's outputs in getUnconnectedOutLayersNames() order (decoders that care
    // about which is which match by shape, never by name). Appends candidates scoring at
    // least threshold; false with *error when the tensors do not fit the family.
    virtual bool decode(const std::vector<cv::Mat> &outputs, float threshold, std::vector<Candidate> &candidates,
                        QString *error) const = 0;

    // The decoder for manifest.family with manifest.decoder's settings; nullptr + *error when
    // the family has no tensor decoder (cascade) or a setting is invalid.
    static std::unique_ptr<Decoder> create(const ModelManifest &manifest, QString *error);

protected:
    Decoder() = default;
};

} // namespace edgelens

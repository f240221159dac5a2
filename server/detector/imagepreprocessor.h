#pragma once

#include "models/modelmanifest.h"

#include <QRectF>

#include <opencv2/core/mat.hpp>
#include <opencv2/core/types.hpp>

namespace edgelens {

// Maps input-canvas pixels back to the original image: original = (canvas - pad) / scale.
struct CanvasMapping
{
    double scaleX = 1.0;
    double scaleY = 1.0;
    double padX = 0.0;
    double padY = 0.0;
    int imageWidth = 0;
    int imageHeight = 0;

    // The box in original-image pixels, clipped to the image (may be empty after clipping).
    QRectF toImage(const cv::Rect2f &canvasBox) const;
};

// Builds the NCHW float blob a manifest describes: letterbox (aspect kept, centred, padded
// with pad_value) or stretch; then channel order, then value * scale, then (v - mean) / std,
// with mean and std given in the fed channel order.
class ImagePreprocessor final
{
public:
    static cv::Mat blob(const cv::Mat &bgr, const ModelManifest &manifest, CanvasMapping *mapping);

    // The resized (and padded) 8-bit BGR canvas alone, for tests and debugging.
    static cv::Mat canvas(const cv::Mat &bgr, const ModelManifest &manifest, CanvasMapping *mapping);
};

} // namespace edgelens

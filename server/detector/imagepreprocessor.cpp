#include "imagepreprocessor.h"

#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

namespace edgelens {

namespace {

int interpolationFlag(const QString &name)
{
    if (name == QLatin1String("area"))
        return cv::INTER_AREA;
    if (name == QLatin1String("cubic"))
        return cv::INTER_CUBIC;
    if (name == QLatin1String("nearest"))
        return cv::INTER_NEAREST;
    return cv::INTER_LINEAR;
}

} // namespace

QRectF CanvasMapping::toImage(const cv::Rect2f &canvasBox) const
{
    const double x1 = std::clamp((double(canvasBox.x) - padX) / scaleX, 0.0, double(imageWidth));
    const double y1 = std::clamp((double(canvasBox.y) - padY) / scaleY, 0.0, double(imageHeight));
    const double x2 = std::clamp((double(canvasBox.x + canvasBox.width) - padX) / scaleX, 0.0, double(imageWidth));
    const double y2 = std::clamp((double(canvasBox.y + canvasBox.height) - padY) / scaleY, 0.0, double(imageHeight));
    return QRectF(x1, y1, std::max(0.0, x2 - x1), std::max(0.0, y2 - y1));
}

cv::Mat ImagePreprocessor::canvas(const cv::Mat &bgr, const ModelManifest &m, CanvasMapping *mapping)
{
    const int W = m.inputWidth;
    const int H = m.inputHeight;
    const int flag = interpolationFlag(m.preprocess.interpolation);
    CanvasMapping map;
    map.imageWidth = bgr.cols;
    map.imageHeight = bgr.rows;
    cv::Mat out;
    if (m.preprocess.resize == QLatin1String("stretch")) {
        cv::resize(bgr, out, cv::Size(W, H), 0, 0, flag);
        map.scaleX = double(W) / bgr.cols;
        map.scaleY = double(H) / bgr.rows;
    } else {
        const double scale = std::min(double(W) / bgr.cols, double(H) / bgr.rows);
        const int newW = std::clamp(int(std::lround(bgr.cols * scale)), 1, W);
        const int newH = std::clamp(int(std::lround(bgr.rows * scale)), 1, H);
        cv::Mat resized;
        cv::resize(bgr, resized, cv::Size(newW, newH), 0, 0, flag);
        const int left = (W - newW) / 2;
        const int top = (H - newH) / 2;
        cv::copyMakeBorder(resized, out, top, H - newH - top, left, W - newW - left, cv::BORDER_CONSTANT,
                           cv::Scalar::all(m.preprocess.padValue));
        map.scaleX = double(newW) / bgr.cols;
        map.scaleY = double(newH) / bgr.rows;
        map.padX = left;
        map.padY = top;
    }
    if (mapping)
        *mapping = map;
    return out;
}

cv::Mat ImagePreprocessor::blob(const cv::Mat &bgr, const ModelManifest &m, CanvasMapping *mapping)
{
    cv::Mat image = canvas(bgr, m, mapping);
    if (m.preprocess.swapRB)
        cv::cvtColor(image, image, cv::COLOR_BGR2RGB);
    cv::Mat values;
    image.convertTo(values, CV_32F, m.preprocess.scale);
    const auto &pp = m.preprocess;
    const bool hasMean = pp.mean[0] != 0 || pp.mean[1] != 0 || pp.mean[2] != 0;
    const bool hasStd = pp.std[0] != 1 || pp.std[1] != 1 || pp.std[2] != 1;
    if (hasMean)
        cv::subtract(values, cv::Scalar(pp.mean[0], pp.mean[1], pp.mean[2]), values);
    if (hasStd)
        cv::divide(values, cv::Scalar(pp.std[0], pp.std[1], pp.std[2]), values);
    return cv::dnn::blobFromImage(values);
}

} // namespace edgelens

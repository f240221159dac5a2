#include "annotator.h"

#include <QLoggingCategory>
#include <QtMath>

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <array>
#include <cmath>

Q_LOGGING_CATEGORY(lcAnnotator, "edgelens.detector.annotator")

namespace edgelens {

namespace {

// Ultralytics' 20-colour palette (RGB): distinct hues that stay legible with either text colour.
constexpr std::array<std::array<int, 3>, 20> kPalette{{
    {255, 56, 56},  {255, 157, 151}, {255, 112, 31}, {255, 178, 29}, {207, 210, 49},
    {72, 249, 10},  {146, 204, 23},  {61, 219, 134}, {26, 147, 52},  {0, 212, 187},
    {44, 153, 168}, {0, 194, 255},   {52, 69, 147},  {100, 115, 255}, {0, 24, 236},
    {132, 56, 255}, {82, 0, 133},    {203, 56, 255}, {255, 149, 200}, {255, 55, 199},
}};

constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;

// Hershey fonts only have ASCII glyphs; anything else would print as '?'.
std::string asciiText(const QString &text)
{
    std::string out;
    for (const QChar c : text)
        out.push_back(c.unicode() >= 32 && c.unicode() < 127 ? char(c.unicode()) : '?');
    return out;
}

void drawTab(cv::Mat &image, const std::string &text, cv::Point anchor, bool above, const cv::Scalar &color,
             double fontScale, int thickness)
{
    int baseline = 0;
    const cv::Size size = cv::getTextSize(text, kFont, fontScale, thickness, &baseline);
    const int pad = std::max(2, thickness);
    const int tabW = size.width + 2 * pad;
    const int tabH = size.height + baseline + 2 * pad;
    int x = std::clamp(anchor.x, 0, std::max(0, image.cols - tabW));
    int y = above ? anchor.y - tabH : anchor.y;
    // No room above the box: put the tab just inside its top edge instead.
    if (y < 0)
        y = above ? anchor.y : 0;
    y = std::clamp(y, 0, std::max(0, image.rows - tabH));
    cv::rectangle(image, cv::Rect(x, y, tabW, tabH), color, cv::FILLED);
    cv::putText(image, text, cv::Point(x + pad, y + pad + size.height), kFont, fontScale,
                Annotator::textColorOn(color), thickness, cv::LINE_AA);
}

} // namespace

cv::Scalar Annotator::classColor(int classId)
{
    const auto &rgb = kPalette[size_t(std::abs(classId) % int(kPalette.size()))];
    return cv::Scalar(rgb[2], rgb[1], rgb[0]);
}

QColor Annotator::classQColor(int classId)
{
    const cv::Scalar bgr = classColor(classId);
    return QColor(int(bgr[2]), int(bgr[1]), int(bgr[0]));
}

cv::Scalar Annotator::textColorOn(const cv::Scalar &background)
{
    // Rec. 601 luma on the BGR components
    const double luma = 0.114 * background[0] + 0.587 * background[1] + 0.299 * background[2];
    return luma > 140 ? cv::Scalar(0, 0, 0) : cv::Scalar(255, 255, 255);
}

QString Annotator::labelText(const Detection &detection)
{
    const QString name = detection.label.isEmpty() ? QStringLiteral("class %1").arg(detection.classId)
                                                   : detection.label;
    return QStringLiteral("%1 %2%").arg(name).arg(qRound(std::clamp(detection.confidence, 0.0f, 1.0f) * 100.0f));
}

void Annotator::draw(cv::Mat &image, const QList<Detection> &detections, const QString &note)
{
    if (image.empty() || image.depth() != CV_8U || image.channels() != 3) {
        if (!image.empty())
            qCWarning(lcAnnotator) << "not drawing on a non-BGR image, type" << image.type();
        return;
    }
    // Sizes follow the image diagonal so a 4K photo and a thumbnail both read well.
    const double diagonal = std::hypot(image.cols, image.rows);
    const int thickness = std::max(1, int(std::lround(diagonal / 600.0)));
    const double fontScale = std::max(0.35, diagonal / 2200.0);
    const int textThickness = std::max(1, thickness / 2 + (thickness > 2 ? 1 : 0));

    // Lowest confidence first so the best boxes and their labels end up on top.
    QList<Detection> ordered = detections;
    std::stable_sort(ordered.begin(), ordered.end(),
                     [](const Detection &a, const Detection &b) { return a.confidence < b.confidence; });
    for (const Detection &d : ordered) {
        const int x1 = std::clamp(int(std::lround(d.box.left())), 0, image.cols - 1);
        const int y1 = std::clamp(int(std::lround(d.box.top())), 0, image.rows - 1);
        const int x2 = std::clamp(int(std::lround(d.box.right())), 0, image.cols - 1);
        const int y2 = std::clamp(int(std::lround(d.box.bottom())), 0, image.rows - 1);
        if (x2 < x1 || y2 < y1)
            continue;
        const cv::Scalar color = classColor(d.classId);
        cv::rectangle(image, cv::Point(x1, y1), cv::Point(x2, y2), color, thickness, cv::LINE_AA);
        drawTab(image, asciiText(labelText(d)), cv::Point(x1, y1), true, color, fontScale, textThickness);
    }
    if (!note.isEmpty())
        drawTab(image, asciiText(note), cv::Point(0, 0), false, cv::Scalar(0, 0, 0), fontScale, textThickness);
}

cv::Mat Annotator::annotated(const cv::Mat &bgr, const QList<Detection> &detections, const QString &note)
{
    cv::Mat copy = bgr.clone();
    draw(copy, detections, note);
    return copy;
}

} // namespace edgelens

#include "annotator.h"

#include "markup/markupstyle.h"

#include <QLoggingCategory>

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

Q_LOGGING_CATEGORY(lcAnnotator, "edgelens.markup.annotator")

namespace edgelens {

namespace {

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
    const QColor c = MarkupStyle::color(classId);
    return cv::Scalar(c.blue(), c.green(), c.red());
}

cv::Scalar Annotator::textColorOn(const cv::Scalar &background)
{
    const QColor c = MarkupStyle::textColorOn(QColor(int(background[2]), int(background[1]), int(background[0])));
    return cv::Scalar(c.blue(), c.green(), c.red());
}

void Annotator::draw(cv::Mat &image, const QList<Detection> &detections, const QString &note)
{
    if (image.empty() || image.depth() != CV_8U || image.channels() != 3) {
        if (!image.empty())
            qCWarning(lcAnnotator) << "not drawing on a non-BGR image, type" << image.type();
        return;
    }
    const QSize size(image.cols, image.rows);
    const int thickness = MarkupStyle::lineWidth(size);
    const double fontScale = MarkupStyle::fontScale(size);
    const int textThickness = MarkupStyle::textThickness(size);

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
        drawTab(image, asciiText(MarkupStyle::labelText(d)), cv::Point(x1, y1), true, color, fontScale, textThickness);
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

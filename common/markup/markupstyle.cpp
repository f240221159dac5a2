#include "markupstyle.h"

#include <QtMath>

#include <algorithm>
#include <array>
#include <cmath>

namespace edgelens {

namespace {

// Ultralytics' 20-colour palette (RGB): distinct hues that stay legible with either text colour.
constexpr std::array<std::array<int, 3>, 20> kPalette{{
    {255, 56, 56},  {255, 157, 151}, {255, 112, 31}, {255, 178, 29}, {207, 210, 49},
    {72, 249, 10},  {146, 204, 23},  {61, 219, 134}, {26, 147, 52},  {0, 212, 187},
    {44, 153, 168}, {0, 194, 255},   {52, 69, 147},  {100, 115, 255}, {0, 24, 236},
    {132, 56, 255}, {82, 0, 133},    {203, 56, 255}, {255, 149, 200}, {255, 55, 199},
}};

double diagonalOf(const QSize &size)
{
    return std::hypot(double(std::max(0, size.width())), double(std::max(0, size.height())));
}

} // namespace

QColor MarkupStyle::color(int classId)
{
    const auto &rgb = kPalette[size_t(std::abs(classId) % int(kPalette.size()))];
    return QColor(rgb[0], rgb[1], rgb[2]);
}

QColor MarkupStyle::textColorOn(const QColor &background)
{
    // Rec. 601 luma
    const double luma = 0.114 * background.blue() + 0.587 * background.green() + 0.299 * background.red();
    return luma > 140 ? QColor(0, 0, 0) : QColor(255, 255, 255);
}

QString MarkupStyle::labelText(const Detection &detection)
{
    const QString name = detection.label.isEmpty() ? QStringLiteral("class %1").arg(detection.classId)
                                                   : detection.label;
    return QStringLiteral("%1 %2%").arg(name).arg(qRound(std::clamp(detection.confidence, 0.0f, 1.0f) * 100.0f));
}

int MarkupStyle::lineWidth(const QSize &imageSize)
{
    return std::max(1, int(std::lround(diagonalOf(imageSize) / 600.0)));
}

int MarkupStyle::textThickness(const QSize &imageSize)
{
    const int thickness = lineWidth(imageSize);
    return std::max(1, thickness / 2 + (thickness > 2 ? 1 : 0));
}

double MarkupStyle::fontScale(const QSize &imageSize)
{
    return std::max(0.35, diagonalOf(imageSize) / 2200.0);
}

} // namespace edgelens

#include "imageorigin.h"

#include <cmath>

namespace edgelens {

namespace {

// Timestamps travel with a microsecond's precision: enough to tell frames of any real video
// apart, and stable when written and read back.
double roundedMs(double ms)
{
    return std::round(ms * 1000.0) / 1000.0;
}

} // namespace

QString ImageOrigin::frameFileName(const QString &sourceStem, qint64 frameIndex, const QString &suffix)
{
    return QStringLiteral("%1_f%2.%3").arg(sourceStem).arg(frameIndex, 6, 10, QLatin1Char('0')).arg(suffix);
}

void ImageOrigin::writeTo(QJsonObject &object) const
{
    if (kind == Kind::Photo)
        return;
    QJsonObject source;
    source.insert(QStringLiteral("path"), this->source);
    if (sourceBytes >= 0)
        source.insert(QStringLiteral("bytes"), double(sourceBytes));
    if (frameSize.isValid()) {
        source.insert(QStringLiteral("width"), frameSize.width());
        source.insert(QStringLiteral("height"), frameSize.height());
    }
    object.insert(kind == Kind::VideoFrame ? QStringLiteral("video") : QStringLiteral("stream"), source);
    object.insert(QStringLiteral("frame_index"), double(frameIndex));
    object.insert(QStringLiteral("timestamp_ms"), roundedMs(timestampMs));
    if (!samplingRule.isEmpty())
        object.insert(QStringLiteral("sampling"), samplingRule);
    if (variableFrameRate)
        object.insert(QStringLiteral("variable_frame_rate"), true);
}

ImageOrigin ImageOrigin::fromJson(const QJsonObject &object)
{
    ImageOrigin origin;
    QJsonObject source;
    if (object.value(QStringLiteral("video")).isObject()) {
        origin.kind = Kind::VideoFrame;
        source = object.value(QStringLiteral("video")).toObject();
    } else if (object.value(QStringLiteral("stream")).isObject()) {
        origin.kind = Kind::LiveFrame;
        source = object.value(QStringLiteral("stream")).toObject();
    } else {
        return origin;
    }
    origin.source = source.value(QStringLiteral("path")).toString();
    origin.sourceBytes = qint64(source.value(QStringLiteral("bytes")).toDouble(-1));
    const int width = source.value(QStringLiteral("width")).toInt(-1);
    const int height = source.value(QStringLiteral("height")).toInt(-1);
    if (width > 0 && height > 0)
        origin.frameSize = QSize(width, height);
    origin.frameIndex = qint64(object.value(QStringLiteral("frame_index")).toDouble(-1));
    origin.timestampMs = object.value(QStringLiteral("timestamp_ms")).toDouble(-1);
    origin.samplingRule = object.value(QStringLiteral("sampling")).toString();
    origin.variableFrameRate = object.value(QStringLiteral("variable_frame_rate")).toBool();
    return origin;
}

} // namespace edgelens

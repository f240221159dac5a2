#include "samplingrule.h"

#include <cmath>

namespace edgelens {

namespace {

QString seconds(double ms)
{
    return QString::number(ms / 1000.0, 'g', 6) + QStringLiteral(" s");
}

QString modeName(SamplingRule::Mode mode)
{
    switch (mode) {
    case SamplingRule::Mode::EveryNFrames:
        return QStringLiteral("every_n_frames");
    case SamplingRule::Mode::EverySeconds:
        return QStringLiteral("every_seconds");
    case SamplingRule::Mode::SceneChanges:
        return QStringLiteral("scene_changes");
    }
    return {};
}

} // namespace

SamplingRule SamplingRule::everyNFrames(int n)
{
    SamplingRule rule;
    rule.mode = Mode::EveryNFrames;
    rule.everyFrames = n;
    return rule;
}

SamplingRule SamplingRule::everySecondsRule(double seconds)
{
    SamplingRule rule;
    rule.mode = Mode::EverySeconds;
    rule.everySeconds = seconds;
    return rule;
}

SamplingRule SamplingRule::sceneChanges(double threshold)
{
    SamplingRule rule;
    rule.mode = Mode::SceneChanges;
    rule.sceneThreshold = threshold;
    return rule;
}

bool SamplingRule::isValid(QString *error) const
{
    auto fail = [error](const QString &message) {
        if (error)
            *error = message;
        return false;
    };
    if (mode == Mode::EveryNFrames && everyFrames < 1)
        return fail(QStringLiteral("every N frames needs N of 1 or more"));
    if (mode == Mode::EverySeconds && !(everySeconds > 0 && std::isfinite(everySeconds)))
        return fail(QStringLiteral("every T seconds needs T above 0"));
    if (mode == Mode::SceneChanges && !(sceneThreshold > 0 && sceneThreshold < 255))
        return fail(QStringLiteral("the scene-change threshold is a grey-level difference between 0 and 255"));
    if (!(startMs >= 0 && std::isfinite(startMs)))
        return fail(QStringLiteral("the time range cannot start before 0"));
    if (endMs >= 0 && endMs <= startMs)
        return fail(QStringLiteral("the time range ends before it starts"));
    return true;
}

QString SamplingRule::describe() const
{
    QString text;
    switch (mode) {
    case Mode::EveryNFrames:
        text = everyFrames == 1 ? QStringLiteral("every frame") : QStringLiteral("every %1 frames").arg(everyFrames);
        break;
    case Mode::EverySeconds:
        text = QStringLiteral("every %1").arg(seconds(everySeconds * 1000.0));
        break;
    case Mode::SceneChanges:
        text = QStringLiteral("scene changes (mean grey difference > %1)").arg(sceneThreshold);
        break;
    }
    if (startMs > 0 && endMs >= 0)
        text += QStringLiteral(" from %1 to %2").arg(seconds(startMs), seconds(endMs));
    else if (startMs > 0)
        text += QStringLiteral(" from %1").arg(seconds(startMs));
    else if (endMs >= 0)
        text += QStringLiteral(" until %1").arg(seconds(endMs));
    return text;
}

QJsonObject SamplingRule::toJson() const
{
    QJsonObject object{{QStringLiteral("mode"), modeName(mode)}};
    if (mode == Mode::EveryNFrames)
        object.insert(QStringLiteral("every_frames"), everyFrames);
    if (mode == Mode::EverySeconds)
        object.insert(QStringLiteral("every_seconds"), everySeconds);
    if (mode == Mode::SceneChanges)
        object.insert(QStringLiteral("scene_threshold"), sceneThreshold);
    if (startMs > 0)
        object.insert(QStringLiteral("start_ms"), startMs);
    if (endMs >= 0)
        object.insert(QStringLiteral("end_ms"), endMs);
    object.insert(QStringLiteral("description"), describe());
    return object;
}

SamplingRule SamplingRule::fromJson(const QJsonObject &object)
{
    SamplingRule rule;
    const QString mode = object.value(QStringLiteral("mode")).toString();
    if (mode == modeName(Mode::EveryNFrames))
        rule.mode = Mode::EveryNFrames;
    else if (mode == modeName(Mode::SceneChanges))
        rule.mode = Mode::SceneChanges;
    else
        rule.mode = Mode::EverySeconds;
    rule.everyFrames = object.value(QStringLiteral("every_frames")).toInt(rule.everyFrames);
    rule.everySeconds = object.value(QStringLiteral("every_seconds")).toDouble(rule.everySeconds);
    rule.sceneThreshold = object.value(QStringLiteral("scene_threshold")).toDouble(rule.sceneThreshold);
    rule.startMs = object.value(QStringLiteral("start_ms")).toDouble(0);
    rule.endMs = object.value(QStringLiteral("end_ms")).toDouble(-1);
    return rule;
}

qint64 SamplingRule::estimatedCount(const SourceProperties &properties) const
{
    if (mode == Mode::SceneChanges || !properties.isFile || properties.fps <= 0 || properties.frameCount <= 0)
        return -1;
    const double durationMs = properties.frameCount * 1000.0 / properties.fps;
    const double from = std::min(startMs, durationMs);
    const double to = endMs >= 0 ? std::min(endMs, durationMs) : durationMs;
    if (to <= from)
        return 0;
    if (mode == Mode::EveryNFrames) {
        // Frames whose time lies in [from, to), at the nominal rate.
        const qint64 first = qint64(std::ceil(from * properties.fps / 1000.0 - 1e-9));
        const qint64 last = std::min(properties.frameCount, qint64(std::ceil(to * properties.fps / 1000.0 - 1e-9))) - 1;
        if (last < first)
            return 0;
        // Kept indices are multiples of N counted from the first frame of the range.
        return (last - first) / everyFrames + 1;
    }
    return qint64(std::ceil((to - from) / (everySeconds * 1000.0) - 1e-9));
}

} // namespace edgelens

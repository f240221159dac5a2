#pragma once

#include "protocol/detection.h"

#include <QSet>
#include <QString>
#include <QStringList>

namespace edgelens {

// Frigate-style "keep the moments worth labelling": a live frame is kept when one of the chosen
// labels is among its detections, at most once every interval, so a person standing in front
// of the camera for a minute gives a handful of frames, not 1,800.
class CaptureRule final
{
public:
    void setEnabled(bool enabled) { m_enabled = enabled; }
    bool isEnabled() const { return m_enabled; }
    // Labels as the model names them ("person, dog"); empty: any detection.
    void setLabels(const QStringList &labels);
    QStringList labels() const;
    void setMinIntervalMs(qint64 milliseconds) { m_minIntervalMs = std::max<qint64>(0, milliseconds); }
    qint64 minIntervalMs() const { return m_minIntervalMs; }

    // Whether this frame is to be kept (and if so, counts it: the next one waits the interval).
    // *matched: the chosen labels it holds, for the file name.
    bool offer(const QList<Detection> &detections, qint64 nowMs, QStringList *matched = nullptr);
    void reset() { m_lastMs = -1; }

    static QStringList parseLabels(const QString &text); // "person, Dog;car" -> person, dog, car

private:
    bool m_enabled = false;
    QSet<QString> m_labels; // lower case
    qint64 m_minIntervalMs = 10000;
    qint64 m_lastMs = -1;
};

} // namespace edgelens

#include "capturerule.h"

#include <QRegularExpression>

#include <algorithm>

namespace edgelens {

QStringList CaptureRule::parseLabels(const QString &text)
{
    static const QRegularExpression separators(QStringLiteral("[,;]"));
    QStringList out;
    for (const QString &part : text.split(separators, Qt::SkipEmptyParts)) {
        const QString label = part.trimmed().toLower();
        if (!label.isEmpty() && !out.contains(label))
            out.append(label);
    }
    return out;
}

void CaptureRule::setLabels(const QStringList &labels)
{
    m_labels.clear();
    for (const QString &label : labels)
        m_labels.insert(label.trimmed().toLower());
    m_labels.remove(QString());
}

QStringList CaptureRule::labels() const
{
    QStringList out(m_labels.cbegin(), m_labels.cend());
    out.sort();
    return out;
}

bool CaptureRule::offer(const QList<Detection> &detections, qint64 nowMs, QStringList *matched)
{
    if (!m_enabled || detections.isEmpty())
        return false;
    if (m_lastMs >= 0 && nowMs - m_lastMs < m_minIntervalMs)
        return false;
    QStringList found;
    for (const Detection &d : detections) {
        const QString label = d.label.toLower();
        if ((m_labels.isEmpty() || m_labels.contains(label)) && !found.contains(label))
            found.append(label);
    }
    if (found.isEmpty())
        return false;
    std::sort(found.begin(), found.end());
    m_lastMs = nowMs;
    if (matched)
        *matched = found;
    return true;
}

} // namespace edgelens

#include "export/trackassigner.h"

#include <QHash>
#include <QMap>
#include <QSet>

#include <algorithm>
#include <tuple>
#include <vector>

namespace edgelens {

TrackAssigner::TrackAssigner(double minIou, const QStringList &classNames)
    : m_minIou(minIou)
    , m_classNames(classNames)
{
}

void TrackAssigner::reserveIds(int highestUsed)
{
    m_nextId = std::max(m_nextId, highestUsed + 1);
}

double TrackAssigner::iou(const QRectF &a, const QRectF &b)
{
    const QRectF overlap = a.normalized().intersected(b.normalized());
    const double inter = overlap.width() * overlap.height();
    const double uni = a.width() * a.height() + b.width() * b.height() - inter;
    return uni > 0 ? inter / uni : 0.0;
}

void TrackAssigner::assign(QList<Detection> &boxes)
{
    // Ids a person's boxes keep are not free for the others in this frame.
    QSet<int> taken;
    for (const Detection &box : std::as_const(boxes)) {
        if (box.trackId > 0) {
            taken.insert(box.trackId);
            reserveIds(box.trackId);
        }
    }
    // Every same-class pair that overlaps enough, best first; ties by position for determinism.
    std::vector<std::tuple<double, int, int>> pairs; // iou, previous index, current index
    for (int c = 0; c < boxes.size(); ++c) {
        if (boxes.at(c).trackId > 0)
            continue;
        const QString label = exportutil::effectiveLabel(boxes.at(c), m_classNames);
        for (int p = 0; p < m_previous.size(); ++p) {
            if (exportutil::effectiveLabel(m_previous.at(p), m_classNames) != label)
                continue;
            const double overlap = iou(m_previous.at(p).box, boxes.at(c).box);
            if (overlap >= m_minIou)
                pairs.emplace_back(overlap, p, c);
        }
    }
    std::sort(pairs.begin(), pairs.end(), [](const auto &a, const auto &b) {
        if (std::get<0>(a) != std::get<0>(b))
            return std::get<0>(a) > std::get<0>(b);
        return std::tie(std::get<1>(a), std::get<2>(a)) < std::tie(std::get<1>(b), std::get<2>(b));
    });
    QSet<int> usedPrevious;
    for (const auto &[overlap, p, c] : pairs) {
        Q_UNUSED(overlap)
        const int id = m_previous.at(p).trackId;
        if (usedPrevious.contains(p) || boxes.at(c).trackId > 0 || taken.contains(id))
            continue;
        boxes[c].trackId = id;
        usedPrevious.insert(p);
        taken.insert(id);
    }
    for (Detection &box : boxes) {
        if (box.trackId <= 0)
            box.trackId = m_nextId++;
    }
    m_previous = boxes;
}

void TrackAssigner::assignVideoTracks(QList<ExportItem> &items, const QStringList &classNames, double minIou)
{
    // source -> (frame index, position in items)
    QMap<QString, std::vector<std::pair<qint64, int>>> videos;
    int highest = 0;
    for (int i = 0; i < items.size(); ++i) {
        for (const Detection &d : std::as_const(items.at(i).detections))
            highest = std::max(highest, d.trackId);
        if (!items.at(i).origin.isPhoto())
            videos[items.at(i).origin.source].emplace_back(items.at(i).origin.frameIndex, i);
    }
    for (auto it = videos.begin(); it != videos.end(); ++it) {
        std::sort(it->begin(), it->end());
        TrackAssigner assigner(minIou, classNames);
        // Ids are unique within the whole export, so a video's ids never meet another's.
        assigner.reserveIds(highest);
        for (const auto &[frameIndex, position] : *it) {
            Q_UNUSED(frameIndex)
            assigner.assign(items[position].detections);
        }
        for (const auto &[frameIndex, position] : *it) {
            Q_UNUSED(frameIndex)
            for (const Detection &d : std::as_const(items.at(position).detections))
                highest = std::max(highest, d.trackId);
        }
    }
}

} // namespace edgelens

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
    int highest = 0; // of the ids boxes already have: new ids start above them
    for (int i = 0; i < items.size(); ++i) {
        for (const Detection &d : std::as_const(items.at(i).detections))
            highest = std::max(highest, d.trackId);
        if (!items.at(i).origin.isPhoto())
            videos[items.at(i).origin.source].emplace_back(items.at(i).origin.frameIndex, i);
    }
    for (auto it = videos.begin(); it != videos.end(); ++it) {
        std::sort(it->begin(), it->end());
        // Tracks by overlap alone first, as if no box had an id. Then a track takes the id a
        // box of it already has (a person's correction on frame 30 names the object on frame 0
        // too, instead of the frames before it starting a track of their own); the other tracks
        // get new ids, unique within the whole export so a video's ids never meet another's.
        TrackAssigner assigner(minIou, classNames);
        std::vector<QList<Detection>> provisional;
        provisional.reserve(it->size());
        for (const auto &[frameIndex, position] : *it) {
            Q_UNUSED(frameIndex)
            QList<Detection> boxes = items.at(position).detections;
            for (Detection &d : boxes)
                d.trackId = 0;
            assigner.assign(boxes);
            provisional.push_back(std::move(boxes));
        }
        QHash<int, int> finalId; // provisional track -> its id
        for (size_t f = 0; f < it->size(); ++f) {
            const QList<Detection> &kept = items.at((*it)[f].second).detections;
            for (int b = 0; b < kept.size(); ++b) {
                if (kept.at(b).trackId > 0 && !finalId.contains(provisional[f].at(b).trackId))
                    finalId.insert(provisional[f].at(b).trackId, kept.at(b).trackId);
            }
        }
        for (size_t f = 0; f < it->size(); ++f) {
            QList<Detection> &boxes = items[(*it)[f].second].detections;
            QSet<int> used; // one id per object in a frame: the ids kept here come first
            for (const Detection &d : std::as_const(boxes))
                used.insert(d.trackId);
            for (int b = 0; b < boxes.size(); ++b) {
                if (boxes.at(b).trackId > 0)
                    continue;
                const int track = provisional[f].at(b).trackId;
                auto id = finalId.constFind(track);
                if (id == finalId.cend())
                    id = finalId.insert(track, ++highest);
                boxes[b].trackId = used.contains(*id) ? ++highest : *id;
                used.insert(boxes.at(b).trackId);
            }
        }
    }
}

} // namespace edgelens

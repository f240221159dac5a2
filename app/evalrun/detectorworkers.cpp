#include "detectorworkers.h"

#include "detector/detector.h"

#include <QFuture>
#include <QList>
#include <QThreadPool>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>
#include <atomic>

namespace edgelens {

DetectorWorkers::DetectorWorkers(DetectorWorkers &&) noexcept = default;
DetectorWorkers &DetectorWorkers::operator=(DetectorWorkers &&) noexcept = default;
DetectorWorkers::~DetectorWorkers() = default;

std::optional<DetectorWorkers> DetectorWorkers::create(const ModelManifest &manifest, const QString &backend,
                                                       int jobs, QString *error)
{
    DetectorWorkers workers;
    for (int j = 0; j < std::max(1, jobs); ++j) {
        QString loadError;
        std::unique_ptr<Detector> detector = createDetector(manifest, backend, &loadError);
        if (!detector) {
            if (error)
                *error = loadError;
            return std::nullopt;
        }
        workers.m_detectors.push_back(std::move(detector));
    }
    return workers;
}

void DetectorWorkers::forEach(int count, const std::function<void(Detector &, int)> &work) const
{
    // Workers take the next index as they finish one: images differ in cost.
    std::atomic<int> next{0};
    const auto drain = [&](Detector *detector) {
        for (int i = next++; i < count; i = next++)
            work(*detector, i);
    };
    QThreadPool pool;
    pool.setMaxThreadCount(std::max(1, jobs() - 1));
    QList<QFuture<void>> futures;
    for (size_t j = 1; j < m_detectors.size(); ++j)
        futures.append(QtConcurrent::run(&pool, drain, m_detectors[j].get()));
    drain(m_detectors.front().get());
    for (QFuture<void> &f : futures)
        f.waitForFinished();
}

} // namespace edgelens

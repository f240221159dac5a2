#pragma once

// Runs one function over many images on several threads, each with a Detector of its own (a
// cv::dnn::Net must not run concurrent forwards). The evaluation (ModelEvaluation) and the
// bench's 12 MP accuracy check share it.

#include "models/modelmanifest.h"

#include <QString>

#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace edgelens {

class Detector;

class DetectorWorkers final
{
public:
    // jobs detectors of manifest (at least one); nullopt with *error when the model does not
    // load, so that a bad model fails before any work starts.
    static std::optional<DetectorWorkers> create(const ModelManifest &manifest, const QString &backend, int jobs,
                                                 QString *error);

    DetectorWorkers(DetectorWorkers &&) noexcept;
    DetectorWorkers &operator=(DetectorWorkers &&) noexcept;
    ~DetectorWorkers();

    int jobs() const { return int(m_detectors.size()); }
    Detector &first() const { return *m_detectors.front(); }

    // Calls work(detector, index) once for every index in [0, count), spread over the
    // workers; returns when all are done. One worker runs on the calling thread.
    void forEach(int count, const std::function<void(Detector &, int)> &work) const;

private:
    DetectorWorkers() = default;

    std::vector<std::unique_ptr<Detector>> m_detectors;
};

} // namespace edgelens

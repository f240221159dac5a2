#pragma once

#include "models/modelmanifest.h"
#include "protocol/detection.h"
#include "protocol/protocol.h"

#include "net/fairtaskqueue.h"

#include <QByteArray>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QList>
#include <QString>
#include <QThreadStorage>

#include <functional>
#include <memory>
#include <vector>

class QThread;

namespace edgelens {

class Detector;

// One image to run through a model: what the network thread hands to a worker.
struct DetectionJob
{
    QByteArray encodedImage;
    int modelIndex = 0; // DetectionEngine::modelIndex()
    DetectOptions options;
    float defaultNmsIou = -1.0f; // used when options.nmsIou < 0; < 0 again: the model's own
    qint64 maxPixels = 0;        // 0: no limit; checked again after decoding
    bool alwaysReturnImage = false;
    // Started when the request arrived; with options.deadlineMs >= 0 a worker that picks the
    // job up later than that answers DeadlineExceeded without running it.
    QElapsedTimer received;
};

// What comes back: a result (and the annotated JPEG when asked for) or a protocol error.
struct DetectionOutcome
{
    bool ok = false;
    protocol::ErrorCode errorCode = protocol::ErrorCode::Internal;
    QString errorString;
    DetectionResult result;
    QByteArray jpeg;
};

// The worker pool: decode, inference, markup and JPEG encode run on dedicated worker threads
// with one Detector (one cv::dnn::Net) per model per worker thread, created on first use in
// that thread, because a Net must not run two forwards at once. Work waits in a FairTaskQueue:
// one queue per owner (a client session) served round robin, bounded, cancellable per owner.
class DetectionEngine final
{
    Q_DISABLE_COPY_MOVE(DetectionEngine)

public:
    DetectionEngine();
    ~DetectionEngine(); // waits for running jobs

    // Loads each model once on the calling thread to prove it works (and learn its backend);
    // models that fail are dropped with a warning. False when none is usable. `backend` is a
    // createDetector() name ("opencv", ...; empty: its default). `threads` > 0 is handed to
    // cv::setNumThreads, which is process-wide; 0 leaves OpenCV's setting alone.
    bool load(const QList<ModelManifest> &models, int workers, int threads, const QString &backend, QString *error);

    // Queues the job for `owner`; `done` runs on the worker thread once it has run (or was
    // found past its deadline when a worker took it). False (and
    // `done` never runs) when the queue already holds maxQueued() waiting jobs. Jobs dropped
    // by cancel() or cancelQueued() never call `done` either.
    using Completion = std::function<void(DetectionOutcome)>;
    bool submit(quint64 owner, DetectionJob job, Completion done);
    int cancel(quint64 owner); // drops the owner's waiting jobs (running ones finish); how many
    void setMaxQueued(int jobs);
    int maxQueued() const;
    int queuedCount() const;
    // Told every change of queuedCount(), from whichever thread made it (the metrics' queue depth).
    void setQueuedObserver(std::function<void(int)> observer);
    int runningCount() const;

    int modelCount() const;
    const ModelManifest &model(int index) const;
    QString backend(int index) const;
    int modelIndex(const QString &name) const; // empty name: 0 (the default); -1 when unknown
    QStringList modelNames() const;
    QJsonArray modelsJson() const;
    int workerCount() const;
    int threadsPerForward() const; // cv::getNumThreads() after load()
    QString backendName() const;   // as given to load(); empty: createDetector()'s default

    bool waitForDone(int msecs);
    void cancelQueued(); // drops jobs no worker has started

private:
    struct ThreadDetectors;
    DetectionOutcome run(const DetectionJob &job);
    Detector *detectorFor(int modelIndex, QString *error); // this thread's, created on first use
    void startWorkers(int count);
    void stopWorkers();

    QList<ModelManifest> m_models;
    QStringList m_backends;
    QList<double> m_measuredMs; // per model, at load: measureMsPerImage()
    QString m_backendName;
    int m_threads = 1;
    // The worker threads own the detectors; the destructor stops them before anything goes.
    QThreadStorage<ThreadDetectors *> m_detectors;
    FairTaskQueue m_queue;
    std::vector<QThread *> m_workers;
};

} // namespace edgelens

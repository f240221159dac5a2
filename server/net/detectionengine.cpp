#include "detectionengine.h"

#include "detector/detector.h"
#include "detector/imagepipeline.h"

#include <QElapsedTimer>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QSemaphore>
#include <QThread>

#include <opencv2/core.hpp>

#include <atomic>
#include <cmath>
#include <map>

Q_LOGGING_CATEGORY(lcEngine, "edgelens.server.engine")

namespace edgelens {

using protocol::ErrorCode;

struct DetectionEngine::ThreadDetectors
{
    std::map<int, std::unique_ptr<Detector>> byModel;
};

namespace {

DetectionOutcome failure(ErrorCode code, const QString &message)
{
    DetectionOutcome outcome;
    outcome.errorCode = code;
    outcome.errorString = message;
    return outcome;
}

} // namespace

DetectionEngine::DetectionEngine() = default;

DetectionEngine::~DetectionEngine()
{
    stopWorkers();
}

bool DetectionEngine::load(const QList<ModelManifest> &models, int workers, int threads, const QString &backend,
                           QString *error)
{
    if (!m_workers.empty()) {
        if (error)
            *error = QStringLiteral("the detection engine is already loaded");
        return false;
    }
    m_backendName = backend;
    // OpenCV 4.6 runs one parallel loop at a time in the whole process: while one worker's
    // forward is spread over these threads, a concurrent forward runs on its own worker
    // thread only. So at most threads + workers - 1 threads compute, and threads = 1 means
    // exactly one thread per worker.
    if (threads > 0)
        cv::setNumThreads(threads);
    m_threads = cv::getNumThreads();
    QStringList problems;
    for (const ModelManifest &manifest : models) {
        QString why;
        QElapsedTimer timer;
        timer.start();
        const std::unique_ptr<Detector> probe = createDetector(manifest, m_backendName, &why);
        if (!probe) {
            qCWarning(lcEngine).noquote() << "model" << manifest.name << "is not usable:" << why;
            problems.append(manifest.name + QStringLiteral(": ") + why);
            continue;
        }
        // Cascades scan the image at its own size: they have no network input to report.
        const QString input = manifest.inputWidth > 0
            ? QStringLiteral("%1x%2").arg(manifest.inputWidth).arg(manifest.inputHeight)
            : QStringLiteral("any size");
        const qint64 loadMs = timer.elapsed();
        // A cascade's time depends on the photo's content and size, not on an input size.
        const bool network = manifest.inputWidth > 0 && !manifest.fallback;
        const double measured = network ? measureMsPerImage(*probe) : -1.0;
        qCInfo(lcEngine).noquote() << "model" << manifest.name << "(" + manifest.family + "," << input << "on"
                                   << probe->backendDescription() + ") loaded in"
                                   << QStringLiteral("%1 ms").arg(loadMs)
                                          + (network ? QStringLiteral("; %1 ms per image measured").arg(measured, 0, 'f', 1)
                                                     : QString());
        m_models.append(manifest);
        m_backends.append(probe->backendDescription());
        m_measuredMs.append(measured);
    }
    if (m_models.isEmpty()) {
        if (error) {
            *error = models.isEmpty() ? QStringLiteral("no model to load")
                                      : QStringLiteral("no model could be loaded: ") + problems.join(QStringLiteral("; "));
        }
        return false;
    }
    QElapsedTimer timer;
    timer.start();
    startWorkers(qMax(1, workers));
    qCDebug(lcEngine) << "workers warmed up in" << timer.elapsed() << "ms";
    return true;
}

void DetectionEngine::startWorkers(int count)
{
    // Every worker loads the default model before taking work, so the first requests do not
    // pay for it; load() returns once all have.
    QSemaphore warmed;
    for (int i = 0; i < count; ++i) {
        QThread *thread = QThread::create([this, &warmed] {
            QString ignored; // a failure shows up again, with its message, on the first request
            detectorFor(0, &ignored);
            warmed.release();
            while (std::optional<FairTaskQueue::Task> task = m_queue.pop()) {
                (*task)();
                m_queue.finished();
            }
        });
        thread->setObjectName(QStringLiteral("edgelens-worker-%1").arg(i + 1));
        thread->start();
        m_workers.push_back(thread);
    }
    warmed.acquire(count);
}

void DetectionEngine::stopWorkers()
{
    m_queue.clear();
    m_queue.close();
    for (QThread *thread : m_workers) {
        thread->wait();
        delete thread;
    }
    m_workers.clear();
}

bool DetectionEngine::submit(quint64 owner, DetectionJob job, Completion done)
{
    return m_queue.push(owner, [this, job = std::move(job), done = std::move(done)] {
        // Checked when a worker is free rather than when the job is queued: only now is it
        // known how long the job waited, and an expired one costs no inference.
        if (job.options.deadlineMs >= 0 && job.received.isValid()
            && job.received.nsecsElapsed() >= qint64(job.options.deadlineMs) * 1000000) {
            done(failure(ErrorCode::DeadlineExceeded,
                         QStringLiteral("the deadline of %1 ms passed before a worker was free (waited %2 ms); not run")
                             .arg(job.options.deadlineMs)
                             .arg(job.received.elapsed())));
            return;
        }
        done(run(job));
    });
}

int DetectionEngine::cancel(quint64 owner)
{
    return m_queue.cancel(owner);
}

void DetectionEngine::setMaxQueued(int jobs)
{
    m_queue.setMaxQueued(jobs);
}

int DetectionEngine::maxQueued() const
{
    return m_queue.maxQueued();
}

int DetectionEngine::queuedCount() const
{
    return m_queue.queued();
}

void DetectionEngine::setQueuedObserver(std::function<void(int)> observer)
{
    m_queue.setQueuedObserver(std::move(observer));
}

int DetectionEngine::runningCount() const
{
    return m_queue.running();
}

int DetectionEngine::modelCount() const
{
    return int(m_models.size());
}

const ModelManifest &DetectionEngine::model(int index) const
{
    return m_models.at(index);
}

QString DetectionEngine::backend(int index) const
{
    return m_backends.value(index);
}

int DetectionEngine::modelIndex(const QString &name) const
{
    if (name.isEmpty())
        return m_models.isEmpty() ? -1 : 0;
    for (int i = 0; i < m_models.size(); ++i) {
        if (m_models.at(i).name == name)
            return i;
    }
    return -1;
}

QStringList DetectionEngine::modelNames() const
{
    QStringList names;
    for (const ModelManifest &m : m_models)
        names.append(m.name);
    return names;
}

QJsonArray DetectionEngine::modelsJson() const
{
    QJsonArray out;
    for (int i = 0; i < m_models.size(); ++i) {
        const ModelManifest &m = m_models.at(i);
        out.append(QJsonObject{
            {QStringLiteral("name"), m.name},
            {QStringLiteral("family"), m.family},
            {QStringLiteral("description"), m.description},
            {QStringLiteral("input_width"), m.inputWidth},
            {QStringLiteral("input_height"), m.inputHeight},
            {QStringLiteral("classes"), QJsonArray::fromStringList(m.classNames)},
            {QStringLiteral("fallback"), m.fallback},
            {QStringLiteral("default_confidence"), double(m.defaultConfidence)},
            {QStringLiteral("default_nms_iou"), double(m.defaultNmsIou)},
            {QStringLiteral("backend"), m_backends.value(i)},
            {QStringLiteral("default"), i == 0},
        });
        // Additive fields: only when known (older clients ignore them).
        QJsonObject entry = out.last().toObject();
        if (m_measuredMs.value(i) >= 0)
            entry.insert(QStringLiteral("measured_ms"), std::round(m_measuredMs.value(i) * 10) / 10);
        if (m.accuracy.isKnown())
            entry.insert(QStringLiteral("accuracy"), m.accuracy.toJson());
        out.replace(out.size() - 1, entry);
    }
    return out;
}

int DetectionEngine::workerCount() const
{
    return int(m_workers.size());
}

int DetectionEngine::threadsPerForward() const
{
    return m_threads;
}

QString DetectionEngine::backendName() const
{
    return m_backendName;
}

bool DetectionEngine::waitForDone(int msecs)
{
    return m_queue.waitForIdle(msecs);
}

void DetectionEngine::cancelQueued()
{
    m_queue.clear();
}

Detector *DetectionEngine::detectorFor(int modelIndex, QString *error)
{
    if (!m_detectors.hasLocalData())
        m_detectors.setLocalData(new ThreadDetectors);
    std::unique_ptr<Detector> &detector = m_detectors.localData()->byModel[modelIndex];
    if (!detector) {
        QString why;
        detector = createDetector(m_models.at(modelIndex), m_backendName, &why);
        if (!detector) {
            qCWarning(lcEngine).noquote() << "worker could not load" << m_models.at(modelIndex).name << ":" << why;
            *error = QStringLiteral("could not load model %1: %2").arg(m_models.at(modelIndex).name, why);
        }
    }
    return detector.get();
}

DetectionOutcome DetectionEngine::run(const DetectionJob &job)
{
    if (job.modelIndex < 0 || job.modelIndex >= m_models.size())
        return failure(ErrorCode::UnknownModel, QStringLiteral("no model number %1").arg(job.modelIndex));

    QString why;
    Detector *detector = detectorFor(job.modelIndex, &why);
    if (!detector)
        return failure(ErrorCode::Internal, why);

    PipelineRequest request;
    request.params.confidence = job.options.confidence;
    request.params.nmsIou = job.options.nmsIou >= 0 ? job.options.nmsIou : job.defaultNmsIou;
    request.params.maxDetections = job.options.maxDetections;
    request.params.classFilter = job.options.classFilter;
    request.markup = job.options.returnImage || job.alwaysReturnImage;
    request.jpegQuality = job.options.jpegQuality;
    request.maxPixels = job.maxPixels;
    // Without a marked-up image nothing needs the full resolution: a 12 MP JPEG is decoded at
    // 1/2..1/8 when that still holds the model's input twice over (boxes in full-size pixels).
    request.reducedDecode = !request.markup;
    PipelineOutcome done = ImagePipeline(*detector).run(job.encodedImage, request);
    if (!done.ok)
        return failure(done.errorCode, done.errorString);

    DetectionOutcome outcome;
    DetectionResult &result = outcome.result;
    result.model = detector->manifest().name;
    result.imageWidth = done.imageSize.width();
    result.imageHeight = done.imageSize.height();
    result.detections = std::move(done.detections);
    result.timings = done.timings;
    outcome.jpeg = std::move(done.jpeg);
    outcome.ok = true;
    return outcome;
}

} // namespace edgelens

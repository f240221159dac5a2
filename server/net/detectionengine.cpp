#include "detectionengine.h"

#include "detector/annotator.h"
#include "detector/detector.h"

#include <QElapsedTimer>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QSemaphore>
#include <QThread>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <atomic>
#include <map>

Q_LOGGING_CATEGORY(lcEngine, "edgelens.server.engine")

namespace edgelens {

using protocol::ErrorCode;

struct DetectionEngine::ThreadDetectors
{
    std::map<int, std::unique_ptr<Detector>> byModel;
};

namespace {

double elapsedMs(QElapsedTimer &timer)
{
    const double ms = double(timer.nsecsElapsed()) / 1e6;
    timer.restart();
    return ms;
}

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
        qCInfo(lcEngine).noquote() << "model" << manifest.name << "(" + manifest.family + "," << input << "on"
                                   << probe->backendDescription() + ") loaded in" << timer.elapsed() << "ms";
        m_models.append(manifest);
        m_backends.append(probe->backendDescription());
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
    return m_queue.push(owner, [this, job = std::move(job), done = std::move(done)] { done(run(job)); });
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

    DetectionOutcome outcome;
    DetectionResult &result = outcome.result;
    result.model = detector->manifest().name;
    QElapsedTimer timer;
    timer.start();

    try {
        // cv::Mat header over the request bytes: imdecode only reads them.
        const cv::Mat encoded(1, int(job.encodedImage.size()), CV_8UC1,
                              const_cast<char *>(job.encodedImage.constData()));
        cv::Mat image = cv::imdecode(encoded, cv::IMREAD_COLOR);
        result.timings.decodeMs = elapsedMs(timer);
        if (image.empty())
            return failure(ErrorCode::UndecodableImage, QStringLiteral("the image data could not be decoded"));
        if (job.maxPixels > 0 && qint64(image.cols) * image.rows > job.maxPixels) {
            return failure(ErrorCode::TooLarge, QStringLiteral("image of %1x%2 pixels exceeds the limit of %3 pixels")
                                                    .arg(image.cols)
                                                    .arg(image.rows)
                                                    .arg(job.maxPixels));
        }
        result.imageWidth = image.cols;
        result.imageHeight = image.rows;

        DetectParams params;
        params.confidence = job.options.confidence;
        params.nmsIou = job.options.nmsIou >= 0 ? job.options.nmsIou : job.defaultNmsIou;
        params.maxDetections = job.options.maxDetections;
        params.classFilter = job.options.classFilter;
        result.detections = detector->detect(image, params);
        result.timings.inferenceMs = elapsedMs(timer);
        if (result.detections.isEmpty() && !detector->lastError().isEmpty())
            return failure(ErrorCode::Internal, QStringLiteral("inference failed: ") + detector->lastError());

        if (job.options.returnImage || job.alwaysReturnImage) {
            const ModelManifest &manifest = detector->manifest();
            const bool fallback = manifest.fallback || manifest.family == QLatin1String("cascade");
            Annotator::draw(image, result.detections,
                            fallback ? QStringLiteral("fallback detector: ") + manifest.name : QString());
            result.timings.markupMs = elapsedMs(timer);
            std::vector<uchar> jpeg;
            const int quality = qBound(1, job.options.jpegQuality, 100);
            if (!cv::imencode(".jpg", image, jpeg, {cv::IMWRITE_JPEG_QUALITY, quality}))
                return failure(ErrorCode::Internal, QStringLiteral("JPEG encoding failed"));
            outcome.jpeg = QByteArray(reinterpret_cast<const char *>(jpeg.data()), qsizetype(jpeg.size()));
            result.timings.encodeMs = elapsedMs(timer);
        }
    } catch (const cv::Exception &e) {
        // OpenCV reports corrupt streams and resource exhaustion by exception; one bad
        // request must not take the worker down.
        const QString what = QString::fromStdString(e.what()).trimmed();
        qCWarning(lcEngine).noquote() << "OpenCV error:" << what;
        const bool decoding = result.imageWidth == 0;
        return failure(decoding ? ErrorCode::UndecodableImage : ErrorCode::Internal,
                       (decoding ? QStringLiteral("the image data could not be decoded: ")
                                 : QStringLiteral("processing failed: "))
                           + what.section(QLatin1Char('\n'), 0, 0));
    } catch (const std::bad_alloc &) {
        return failure(ErrorCode::Internal, QStringLiteral("out of memory"));
    }
    outcome.ok = true;
    return outcome;
}

} // namespace edgelens

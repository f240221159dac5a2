#include "pipelinebench.h"

#include "detector/detector.h"
#include "detector/imagepipeline.h"
#include "detector/dnndetector.h"
#include "evalrun/modelevaluation.h"

#include <QElapsedTimer>
#include <QFuture>
#include <QMutex>
#include <QMutexLocker>
#include <QThreadPool>
#include <QtConcurrent/QtConcurrentRun>

#include <opencv2/dnn.hpp>
#include <opencv2/imgcodecs.hpp>

#include <atomic>
#include <memory>
#include <vector>

namespace edgelens {

namespace {

double msSince(const QElapsedTimer &timer)
{
    return double(timer.nsecsElapsed()) / 1e6;
}

} // namespace

PipelineBench::PipelineBench(const QList<QByteArray> &images, const QString &backend)
    : m_images(images)
    , m_backend(backend)
{
}

std::optional<double> PipelineBench::forwardMedianMs(const ModelManifest &manifest, int iterations,
                                                     const QString &backend, QString *error)
{
    if (manifest.family == QLatin1String("cascade") || manifest.files.isEmpty() || !manifest.isComplete()) {
        if (error)
            *error = QStringLiteral("%1: no cv::dnn network to time").arg(manifest.name);
        return std::nullopt;
    }
    try {
        cv::dnn::Net net = DnnDetector::readNetwork(manifest, error);
        if (net.empty())
            return std::nullopt;
        // The same backend/target pair as DnnDetector, so the forward is timed where detect() runs it.
        DnnDetector::applyBackend(net, resolveBackend(backend));
        const std::vector<std::string> outputs = net.getUnconnectedOutLayersNames();
        const cv::Mat input(manifest.inputHeight, manifest.inputWidth, CV_8UC3, cv::Scalar(114, 114, 114));
        net.setInput(cv::dnn::blobFromImage(input, 1.0 / 255, cv::Size(manifest.inputWidth, manifest.inputHeight)));
        std::vector<cv::Mat> out;
        for (int i = 0; i < 2; ++i)
            net.forward(out, outputs);
        QList<double> times;
        for (int i = 0; i < iterations; ++i) {
            QElapsedTimer timer;
            timer.start();
            net.forward(out, outputs);
            times.append(msSince(timer));
        }
        return ModelEvaluation::percentile(times, 50);
    } catch (const cv::Exception &e) {
        if (error)
            *error = QStringLiteral("%1: %2").arg(manifest.name, QString::fromStdString(e.what()).trimmed());
        return std::nullopt;
    }
}

std::optional<PipelineFigures> PipelineBench::run(const ModelManifest &manifest, int threads, double seconds,
                                                  int count, QString *error) const
{
    if (m_images.isEmpty()) {
        if (error)
            *error = QStringLiteral("no images to run");
        return std::nullopt;
    }
    threads = std::max(1, threads);
    std::vector<std::unique_ptr<Detector>> detectors;
    for (int t = 0; t < threads; ++t) {
        auto detector = createDetector(manifest, m_backend, error);
        if (!detector)
            return std::nullopt;
        detectors.push_back(std::move(detector));
    }

    PipelineFigures figures;
    figures.model = manifest.name;
    figures.backend = detectors.front()->backendDescription();
    figures.threads = threads;

    // Warm-up: the first forward allocates and picks kernels.
    {
        const QByteArray &bytes = m_images.first();
        const cv::Mat bgr = cv::imdecode(cv::Mat(1, int(bytes.size()), CV_8UC1, const_cast<char *>(bytes.constData())),
                                         cv::IMREAD_COLOR);
        for (auto &detector : detectors)
            detector->detect(bgr, DetectParams());
    }

    std::atomic<int> next{0};
    std::atomic<bool> failed{false};
    QMutex mutex;
    QList<double> detectTimes;
    QString firstError;
    QElapsedTimer clock;

    const auto work = [&](Detector *detector) {
        ImagePipeline pipeline(*detector);
        PipelineRequest request;
        request.markup = true; // exactly the server's work for a client that wants the marked-up image
        request.jpegQuality = 90;
        for (;;) {
            if (seconds > 0 ? double(clock.nsecsElapsed()) / 1e9 >= seconds : next.load() >= count)
                return;
            const int i = next++;
            if (seconds <= 0 && i >= count)
                return;
            const PipelineOutcome outcome = pipeline.run(m_images.at(i % m_images.size()), request);
            QMutexLocker lock(&mutex);
            if (!outcome.ok) {
                if (!failed.exchange(true))
                    firstError = outcome.errorString;
                return;
            }
            detectTimes.append(outcome.timings.inferenceMs);
        }
    };

    clock.start();
    if (threads == 1) {
        work(detectors.front().get());
    } else {
        QThreadPool pool;
        pool.setMaxThreadCount(threads);
        QList<QFuture<void>> futures;
        for (auto &detector : detectors)
            futures.append(QtConcurrent::run(&pool, work, detector.get()));
        for (auto &future : futures)
            future.waitForFinished();
    }
    figures.seconds = double(clock.nsecsElapsed()) / 1e9;
    if (failed) {
        if (error)
            *error = QStringLiteral("%1: %2").arg(manifest.name, firstError);
        return std::nullopt;
    }
    figures.images = int(detectTimes.size());
    figures.imagesPerSecond = figures.seconds > 0 ? figures.images / figures.seconds : 0;
    figures.detectMedianMs = ModelEvaluation::percentile(detectTimes, 50);
    return figures;
}

} // namespace edgelens

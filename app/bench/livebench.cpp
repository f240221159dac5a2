#include "livebench.h"

#include "client/poolmodels.h"

#include <QCoreApplication>
#include <QEventLoop>
#include <QJsonArray>
#include <QTimer>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace edgelens {

namespace {

constexpr int kStills = 30;

double percentile(std::vector<double> values, double q)
{
    if (values.empty())
        return 0;
    const size_t rank = size_t(std::max(0.0, std::ceil(q * double(values.size())) - 1));
    std::nth_element(values.begin(), values.begin() + qsizetype(rank), values.end());
    return values[rank];
}

double round1(double value)
{
    return std::round(value * 10.0) / 10.0;
}

} // namespace

LiveBench::LiveBench(const Options &options)
    : m_options(options)
{
    m_client.setMaxInFlight(m_options.maxInFlight);
    m_client.setTimeout(30000);
    m_client.setDevices({m_options.device});
}

LiveBench::~LiveBench() = default;

bool LiveBench::collectFrames(QString *error)
{
    // What the device serves decides the reduction, as in the live loop.
    PoolModels models;
    QEventLoop loop;
    connect(&m_client, &DetectionClient::serverInfoReceived, &loop,
            [&](quint64 id, const QJsonObject &info, double, const QString &device) {
                if (models.takeAnswer(id, info, device) && models.complete())
                    loop.quit();
            });
    connect(&m_client, &DetectionClient::requestFailed, &loop, [&](quint64 id, const QString &reason, bool) {
        if (models.takeFailure(id)) {
            *error = reason;
            loop.quit();
        }
    });
    models.ask(m_client, QString());
    QTimer::singleShot(30000, &loop, &QEventLoop::quit);
    loop.exec();
    disconnect(&m_client, nullptr, &loop, nullptr);
    m_modelInput = models.input();
    if (!m_modelInput.isValid()) {
        if (error->isEmpty())
            *error = QStringLiteral("the device did not say what its model's input is");
        return false;
    }

    StreamSource source(m_options.source);
    QEventLoop frames;
    connect(&source, &StreamSource::frameAvailable, &frames, [&] {
        LiveFrame frame;
        if (source.takeLatest(&frame) && m_frames.size() < kStills && frame.sequence % 3 == 0)
            m_frames.append(ReducedFrame::make(frame.image, m_modelInput, 2.0, 85));
        if (m_frames.size() >= kStills)
            frames.quit();
    });
    connect(&source, &StreamSource::stateChanged, &frames, [&](StreamSource::State state, const QString &why) {
        if (state == StreamSource::State::Failed) {
            *error = why;
            frames.quit();
        }
    });
    source.start();
    QTimer::singleShot(60000, &frames, &QEventLoop::quit);
    frames.exec();
    source.close();
    if (m_frames.size() < kStills && error->isEmpty())
        *error = QStringLiteral("the stream gave %1 frames in 60 s").arg(m_frames.size());
    return m_frames.size() >= kStills;
}

LiveBench::Baseline LiveBench::baseline(QString *error)
{
    // Single frames as photos: each its own request, as many in flight as the live loop keeps.
    Baseline out;
    std::vector<double> device;
    QEventLoop loop;
    QElapsedTimer clock;
    int next = 0;
    int outstanding = 0;
    bool stopping = false;
    DetectOptions options;
    options.returnImage = false;
    const auto sendOne = [&] {
        m_client.submit(m_frames.at(next++ % m_frames.size()).jpeg, options);
        ++outstanding;
    };
    connect(&m_client, &DetectionClient::resultReady, &loop, [&](quint64, const ClientResult &result) {
        --outstanding;
        ++out.images;
        const StageTimings &t = result.result.timings;
        device.push_back(t.decodeMs + t.inferenceMs + t.markupMs + t.encodeMs);
        if (!stopping)
            sendOne();
        else if (outstanding == 0)
            loop.quit();
    });
    connect(&m_client, &DetectionClient::requestFailed, &loop, [&](quint64, const QString &reason, bool) {
        *error = reason;
        stopping = true;
        loop.quit();
    });
    double seconds = 0;
    QTimer::singleShot(m_options.baselineSeconds * 1000, &loop, [&] {
        stopping = true;
        seconds = double(clock.nsecsElapsed()) / 1e9;
        out.imagesPerSecond = double(out.images) / seconds; // answers within the timed span
    });
    clock.start();
    for (int i = 0; i < m_options.maxInFlight; ++i)
        sendOne();
    loop.exec();
    disconnect(&m_client, nullptr, &loop, nullptr);
    out.deviceP95Ms = percentile(device, 0.95);
    return out;
}

bool LiveBench::live(QString *error)
{
    StreamSource source(m_options.source);
    LivePipeline::Options options;
    options.maxInFlight = m_options.maxInFlight;
    LivePipeline pipeline(&m_client, &source, options);
    QElapsedTimer clock;
    QEventLoop loop;
    connect(&pipeline, &LivePipeline::frameReady, &loop, [&](const LiveResult &result) {
        if (result.detected)
            m_samples.append({double(clock.nsecsElapsed()) / 1e9, result.latencyMs, result.deviceMs});
    });
    connect(&source, &StreamSource::stateChanged, &loop, [&](StreamSource::State state, const QString &why) {
        if (state == StreamSource::State::Failed) {
            *error = why;
            loop.quit();
        }
    });
    // The clock starts with the first frame shown: connecting is not part of the figures.
    connect(&pipeline, &LivePipeline::frameReady, &loop, [&] {
        if (!clock.isValid()) {
            clock.start();
            QTimer::singleShot(m_options.liveSeconds * 1000, &loop, &QEventLoop::quit);
        }
    });
    pipeline.start();
    QTimer::singleShot((m_options.liveSeconds + 60) * 1000, &loop, &QEventLoop::quit);
    loop.exec();
    m_liveSeconds = clock.isValid() ? double(clock.nsecsElapsed()) / 1e9 : 0;
    m_liveFigures = pipeline.figures();
    pipeline.stop();
    source.close();
    if (m_samples.isEmpty() && error->isEmpty())
        *error = QStringLiteral("no frame was detected");
    return !m_samples.isEmpty();
}

QJsonObject LiveBench::run(QString *error)
{
    if (!collectFrames(error))
        return {};
    const Baseline before = baseline(error);
    if (!error->isEmpty())
        return {};
    if (!live(error))
        return {};
    const Baseline after = baseline(error);
    if (!error->isEmpty())
        return {};

    std::vector<double> latency, device, first, last;
    const double window = m_options.windowSeconds;
    for (const Sample &s : std::as_const(m_samples)) {
        latency.push_back(s.latencyMs);
        device.push_back(s.deviceMs);
        if (s.atSeconds < window)
            first.push_back(s.latencyMs);
        if (s.atSeconds >= m_liveSeconds - window)
            last.push_back(s.latencyMs);
    }
    const double imagesPerSecond = (before.imagesPerSecond + after.imagesPerSecond) / 2;
    const double detectionsPerSecond = double(m_samples.size()) / m_liveSeconds;
    const double latencyP95 = percentile(latency, 0.95);
    const double deviceP95 = percentile(device, 0.95);
    const double firstP95 = percentile(first, 0.95);
    const double lastP95 = percentile(last, 0.95);
    return {
        {QStringLiteral("source"), m_options.source.display()},
        {QStringLiteral("source_size"), QStringLiteral("%1x%2").arg(m_liveFigures.sourceSize.width()).arg(m_liveFigures.sourceSize.height())},
        {QStringLiteral("source_fps"), round1(m_liveFigures.sourceFps)},
        {QStringLiteral("sent_size"), QStringLiteral("%1x%2").arg(m_frames.first().sentSize.width()).arg(m_frames.first().sentSize.height())},
        {QStringLiteral("device"), m_options.device.name()},
        {QStringLiteral("max_in_flight"), m_options.maxInFlight},
        {QStringLiteral("single_frame_images_per_second_before"), round1(before.imagesPerSecond)},
        {QStringLiteral("single_frame_images_per_second_after"), round1(after.imagesPerSecond)},
        {QStringLiteral("single_frame_images_per_second"), round1(imagesPerSecond)},
        {QStringLiteral("single_frame_device_p95_ms"), round1(std::max(before.deviceP95Ms, after.deviceP95Ms))},
        {QStringLiteral("live_seconds"), round1(m_liveSeconds)},
        {QStringLiteral("live_detected_frames"), int(m_samples.size())},
        {QStringLiteral("live_detections_per_second"), round1(detectionsPerSecond)},
        {QStringLiteral("live_vs_single_frame"), std::round(detectionsPerSecond / imagesPerSecond * 1000) / 1000},
        {QStringLiteral("decoded_frames"), double(m_liveFigures.decoded)},
        {QStringLiteral("dropped_frames"), double(m_liveFigures.dropped)},
        {QStringLiteral("expired_frames"), double(m_liveFigures.expired)},
        {QStringLiteral("capture_to_screen_p50_ms"), round1(percentile(latency, 0.5))},
        {QStringLiteral("capture_to_screen_p95_ms"), round1(latencyP95)},
        {QStringLiteral("latency_from_stamps"), m_liveFigures.latencyFromStamps},
        {QStringLiteral("device_p50_ms"), round1(percentile(device, 0.5))},
        {QStringLiteral("device_p95_ms"), round1(deviceP95)},
        // Share of the live phase the device spent on frames (detections/s x mean device time):
        // near 1 means the live loop kept it busy, whatever its speed in this run.
        {QStringLiteral("device_busy_share"),
         std::round(detectionsPerSecond * std::accumulate(device.begin(), device.end(), 0.0)
                    / double(std::max<size_t>(1, device.size())) / 10.0) / 100},
        {QStringLiteral("latency_budget_ms"), round1(deviceP95 + 150)},
        {QStringLiteral("p95_first_window_ms"), round1(firstP95)},
        {QStringLiteral("p95_last_window_ms"), round1(lastP95)},
        {QStringLiteral("last_vs_first_p95"), firstP95 > 0 ? std::round(lastP95 / firstP95 * 1000) / 1000 : 0.0},
        {QStringLiteral("meets_rate_target"), detectionsPerSecond >= 0.9 * imagesPerSecond},
        {QStringLiteral("meets_latency_target"), latencyP95 <= deviceP95 + 150},
        {QStringLiteral("meets_stability_target"), firstP95 > 0 && lastP95 <= 1.2 * firstP95},
    };
}

} // namespace edgelens

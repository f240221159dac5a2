#include "livecommand.h"

#include "console.h"
#include "livearguments.h"
#include "models/modelcatalog.h"
#include "net/detectionserver.h"
#include "net/serverconfig.h"
#include "net/unixsignalwatcher.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTimer>

#include <cmath>
#include <csignal>

namespace edgelens {

namespace {

constexpr int kProgressIntervalMs = 5000;

QString compact(const QJsonObject &object)
{
    return QString::fromUtf8(QJsonDocument(object).toJson(QJsonDocument::Compact));
}

double round1(double value)
{
    return std::round(value * 10.0) / 10.0;
}

QJsonObject figuresJson(const LiveFigures &f, double seconds)
{
    return {
        {QStringLiteral("seconds"), round1(seconds)},
        {QStringLiteral("state"), f.state},
        {QStringLiteral("source_width"), f.sourceSize.width()},
        {QStringLiteral("source_height"), f.sourceSize.height()},
        {QStringLiteral("source_fps"), round1(f.sourceFps)},
        {QStringLiteral("decoded"), double(f.decoded)},
        {QStringLiteral("detected"), double(f.detected)},
        {QStringLiteral("dropped"), double(f.dropped)},
        {QStringLiteral("expired"), double(f.expired)},
        {QStringLiteral("failed"), double(f.failed)},
        {QStringLiteral("reconnects"), f.reconnects},
        {QStringLiteral("detections_per_second"), seconds > 0 ? round1(double(f.detected) / seconds) : 0.0},
        {QStringLiteral("detections_per_second_last_window"), round1(f.detectionsPerSecond)},
        {QStringLiteral("latency_p50_ms"), round1(f.latencyP50Ms)},
        {QStringLiteral("latency_p95_ms"), round1(f.latencyP95Ms)},
        {QStringLiteral("latency_from_stamps"), f.latencyFromStamps},
        {QStringLiteral("device_p50_ms"), round1(f.deviceP50Ms)},
        {QStringLiteral("device_p95_ms"), round1(f.deviceP95Ms)},
    };
}

} // namespace

LiveCommand::LiveCommand() = default;

LiveCommand::~LiveCommand()
{
    // The pipeline talks to the client and the source; the source's thread stops before the
    // server it may be feeding goes.
    m_pipeline.reset();
    m_source.reset();
}

int LiveCommand::run(const QStringList &arguments)
{
    LiveArguments args;
    const QString problem = args.parse(arguments);
    if (!problem.isEmpty()) {
        cli::printErr(QStringLiteral("edgelens-cli live: ") + problem);
        return int(UsageError);
    }
    m_jsonLines = args.jsonLines;
    m_quiet = args.quiet;
    ServerConfig::applyLogLevel(args.verbose ? QStringLiteral("info") : QStringLiteral("warning"), nullptr);
    QList<DeviceSpec> devices = args.devices;
    if (devices.isEmpty()) {
        int exitCode = 0;
        const std::optional<DeviceSpec> local = startEmbeddedServer(args, &exitCode);
        if (!local)
            return exitCode;
        devices.append(*local);
    } else if (args.model) {
        args.pipeline.detect.model = *args.model;
    }
    m_client.setMaxInFlight(args.perDevice);
    m_client.setToken(args.token);
    m_client.setTimeout(10000);
    m_client.setMaxRetries(1);
    m_client.setDevices(devices);

    LivePipeline::Options options = args.pipeline;
    options.maxInFlight = args.perDevice * int(devices.size());
    m_source = std::make_unique<StreamSource>(args.source);
    m_pipeline = std::make_unique<LivePipeline>(&m_client, m_source.get(), options);
    connect(m_source.get(), &StreamSource::stateChanged, this, &LiveCommand::reportState);
    connect(m_pipeline.get(), &LivePipeline::frameReady, this, &LiveCommand::printFrame);
    connect(m_pipeline.get(), &LivePipeline::requestProblem, this, [this](const QString &reason) {
        if (!m_quiet)
            cli::printErr(QStringLiteral("request failed: ") + reason);
    });
    QTimer progress;
    if (!m_quiet) {
        connect(&progress, &QTimer::timeout, this, [this] { cli::printErr(m_pipeline->figures().summaryLine()); });
        progress.start(kProgressIntervalMs);
    }
    UnixSignalWatcher signalWatcher({SIGINT, SIGTERM});
    connect(&signalWatcher, &UnixSignalWatcher::signalReceived, this, &LiveCommand::finish);
    if (args.durationSeconds > 0)
        QTimer::singleShot(int(args.durationSeconds * 1000), this, &LiveCommand::finish);

    if (!m_quiet)
        cli::printErr(QStringLiteral("live from %1 (%2)")
                          .arg(args.source.display(), StreamSpec::kindName(args.source.kind)));
    m_clock.start();
    m_pipeline->start();
    QCoreApplication::exec();
    return summarize();
}

std::optional<DeviceSpec> LiveCommand::startEmbeddedServer(const LiveArguments &args, int *exitCode)
{
    ServerConfig config = ServerConfig::embedded();
    if (args.model)
        config.modelPaths = {*args.model};
    else if (const auto model = ModelCatalog().defaultModel())
        config.modelPaths = {model->name};
    config.token = args.token;
    config.maxInFlightPerConnection = std::max(config.maxInFlightPerConnection, args.perDevice);
    if (!m_quiet)
        cli::printErr(QStringLiteral("starting the embedded server…"));
    m_server = std::make_unique<DetectionServer>();
    QString error;
    if (!m_server->start(config, &error)) {
        cli::printErr(QStringLiteral("edgelens-cli live: ") + error.trimmed());
        *exitCode = m_server->startFailure() == DetectionServer::StartFailure::NoModel ? int(NoModel)
                                                                                      : int(NothingDetected);
        return std::nullopt;
    }
    DeviceSpec local;
    local.host = QStringLiteral("127.0.0.1");
    local.port = m_server->serverPort();
    local.label = DeviceSpec::embeddedLabel();
    local.protocol = DetectionClient::Protocol::V2;
    return local;
}

void LiveCommand::reportState(StreamSource::State state, const QString &message)
{
    const StreamSource::State previous = m_lastState;
    m_lastState = state;
    switch (state) {
    case StreamSource::State::Reconnecting:
        cli::printErr(QStringLiteral("reconnecting: ") + message);
        break;
    case StreamSource::State::Live:
        if (previous == StreamSource::State::Reconnecting)
            cli::printErr(QStringLiteral("live again: ") + message);
        else if (!m_quiet)
            cli::printErr(QStringLiteral("live: ") + message);
        break;
    case StreamSource::State::Connecting:
        if (!m_quiet)
            cli::printErr(QStringLiteral("connecting: ") + message);
        break;
    case StreamSource::State::Ended:
        if (!m_quiet)
            cli::printErr(QStringLiteral("ended: ") + message);
        finish();
        break;
    case StreamSource::State::Failed:
        cli::printErr(QStringLiteral("edgelens-cli live: %1: %2").arg(m_source->spec().display(), message));
        finish();
        break;
    case StreamSource::State::Idle:
    case StreamSource::State::Closed:
        break;
    }
}

int LiveCommand::summarize()
{
    const LiveFigures figures = m_pipeline->figures();
    const double seconds = double(m_clock.elapsed()) / 1000.0;
    m_pipeline->stop();
    m_source->close();
    if (m_jsonLines)
        cli::printOut(compact(QJsonObject{{QStringLiteral("summary"), figuresJson(figures, seconds)}}));
    else
        cli::printOut(QStringLiteral("%1 s: %2").arg(QString::number(seconds, 'f', 1), figures.summaryLine()));
    return figures.detected > 0 ? int(Success) : int(NothingDetected);
}

void LiveCommand::printFrame(const LiveResult &result)
{
    if (!m_jsonLines)
        return;
    QJsonArray detections;
    for (const Detection &d : result.detections)
        detections.append(toJson(d));
    QJsonObject line{
        {QStringLiteral("frame"), double(result.frame.sequence)},
        {QStringLiteral("captured_ms"), double(result.frame.capturedMs)},
        {QStringLiteral("timestamp"),
         QDateTime::fromMSecsSinceEpoch(result.frame.capturedMs, Qt::UTC).toString(Qt::ISODateWithMs)},
        {QStringLiteral("stamped"), result.frame.stamped},
        {QStringLiteral("width"), result.frame.image.cols},
        {QStringLiteral("height"), result.frame.image.rows},
        {QStringLiteral("latency_ms"), round1(result.latencyMs)},
        {QStringLiteral("device_ms"), round1(result.deviceMs)},
        {QStringLiteral("round_trip_ms"), round1(result.roundTripMs)},
        {QStringLiteral("device"), result.device},
        {QStringLiteral("model"), result.model},
        {QStringLiteral("detections"), detections},
    };
    if (!result.detected) {
        line.insert(QStringLiteral("boxes_from_frame"), double(result.boxesSequence));
        line.insert(QStringLiteral("boxes_age_ms"), double(result.boxesAgeMs));
    }
    if (result.frame.positionMs >= 0)
        line.insert(QStringLiteral("position_ms"), round1(result.frame.positionMs));
    cli::printOut(compact(line));
}

void LiveCommand::finish()
{
    if (m_finished)
        return;
    m_finished = true;
    QCoreApplication::quit();
}

} // namespace edgelens

#include "livecommand.h"

#include "console.h"
#include "models/modelcatalog.h"
#include "net/detectionserver.h"
#include "net/serverconfig.h"
#include "net/unixsignalwatcher.h"

#include <QCommandLineParser>
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
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Detects objects in a live source: a camera (/dev/video0, or 0), an RTSP stream (rtsp://...), an HTTP "
        "MJPEG stream (http://...) or a video file played in real time. Without --host the frames go to a server "
        "started inside this process. Credentials in the URL are never printed."));
    parser.addHelpOption();
    parser.addPositionalArgument(QStringLiteral("live"), QStringLiteral("The command."));
    parser.addPositionalArgument(QStringLiteral("source"), QStringLiteral("Camera, stream URL or video file."),
                                 QStringLiteral("SOURCE"));
    const QCommandLineOption durationOption(QStringLiteral("duration"),
                                            QStringLiteral("Seconds to run (default 0: until interrupted)."),
                                            QStringLiteral("S"), QStringLiteral("0"));
    const QCommandLineOption jsonOption(QStringLiteral("json-lines"),
                                        QStringLiteral("One JSON line per detected frame on stdout, and a summary line."));
    const QCommandLineOption hostOption(QStringLiteral("host"),
                                        QStringLiteral("Device address, HOST or HOST:PORT; repeat it for a pool."),
                                        QStringLiteral("host"));
    const QCommandLineOption portOption(QStringLiteral("port"), QStringLiteral("Device port (default 6000)."),
                                        QStringLiteral("port"), QString::number(protocol::kDefaultPort));
    const QCommandLineOption modelOption(QStringLiteral("model"), QStringLiteral("Model name (see `models list`)."),
                                         QStringLiteral("NAME"));
    const QCommandLineOption confOption(QStringLiteral("conf"), QStringLiteral("Confidence threshold (default 0.5)."),
                                        QStringLiteral("C"));
    const QCommandLineOption tokenOption(QStringLiteral("token"),
                                         QStringLiteral("Access token (default: $EDGELENS_TOKEN)."), QStringLiteral("T"));
    const QCommandLineOption inFlightOption(QStringLiteral("max-in-flight"),
                                            QStringLiteral("Frames out at once per device (default 2)."),
                                            QStringLiteral("N"), QStringLiteral("2"));
    const QCommandLineOption deadlineOption(QStringLiteral("deadline-ms"),
                                            QStringLiteral("A device drops a frame no worker started within this "
                                                           "(default 1000)."),
                                            QStringLiteral("MS"), QStringLiteral("1000"));
    const QCommandLineOption noDeadlineOption(QStringLiteral("no-deadline"), QStringLiteral("Send no deadline."));
    const QCommandLineOption udpOption(QStringLiteral("rtsp-udp"), QStringLiteral("RTSP over UDP (default TCP)."));
    const QCommandLineOption onceOption(QStringLiteral("once"),
                                        QStringLiteral("A video file ends at its end instead of starting again."));
    const QCommandLineOption newestOption(QStringLiteral("newest"),
                                          QStringLiteral("Every decoded frame with the newest boxes and their age, "
                                                         "instead of each detected frame with its own boxes."));
    const QCommandLineOption quietOption(QStringLiteral("quiet"), QStringLiteral("Only errors and the summary."));
    const QCommandLineOption verboseOption(QStringLiteral("verbose"),
                                           QStringLiteral("Also show the embedded server's and the client's log."));
    parser.addOptions({durationOption, jsonOption, hostOption, portOption, modelOption, confOption, tokenOption,
                       inFlightOption, deadlineOption, noDeadlineOption, udpOption, onceOption, newestOption,
                       quietOption, verboseOption});
    parser.process(arguments);

    auto usage = [](const QString &message) {
        cli::printErr(QStringLiteral("edgelens-cli live: ") + message);
        return int(UsageError);
    };
    const QStringList positional = parser.positionalArguments();
    if (positional.size() != 2)
        return usage(QStringLiteral("give one source; try `edgelens-cli live --help`"));
    bool ok = false;
    const double duration = parser.value(durationOption).toDouble(&ok);
    if (!ok || duration < 0)
        return usage(QStringLiteral("--duration must be a number of seconds (0: until interrupted)"));
    const int perDevice = parser.value(inFlightOption).toInt(&ok);
    if (!ok || perDevice < 1 || perDevice > 16)
        return usage(QStringLiteral("--max-in-flight must be 1..16"));
    const int deadline = parser.value(deadlineOption).toInt(&ok);
    if (!ok || deadline < 1 || deadline > 3600000)
        return usage(QStringLiteral("--deadline-ms must be 1..3600000"));
    const uint port = parser.value(portOption).toUInt(&ok);
    if (!ok || port == 0 || port > 65535)
        return usage(QStringLiteral("--port must be 1..65535"));
    LivePipeline::Options options;
    if (parser.isSet(confOption)) {
        options.detect.confidence = parser.value(confOption).toFloat(&ok);
        if (!ok || options.detect.confidence < 0 || options.detect.confidence > 1)
            return usage(QStringLiteral("--conf must be between 0 and 1"));
    }
    QString error;
    std::optional<StreamSpec> spec = StreamSpec::parse(positional.at(1), &error);
    if (!spec)
        return usage(error);
    if (parser.isSet(udpOption))
        spec->rtspTransport = StreamSpec::RtspTransport::Udp;
    spec->loop = !parser.isSet(onceOption);
    m_jsonLines = parser.isSet(jsonOption);
    m_quiet = parser.isSet(quietOption);
    ServerConfig::applyLogLevel(parser.isSet(verboseOption) ? QStringLiteral("info") : QStringLiteral("warning"),
                                nullptr);
    const QString token = parser.isSet(tokenOption) ? parser.value(tokenOption) : qEnvironmentVariable("EDGELENS_TOKEN");

    QList<DeviceSpec> devices;
    for (const QString &text : parser.values(hostOption)) {
        const auto device = DeviceSpec::parse(text, quint16(port), &error);
        if (!device)
            return usage(QStringLiteral("--host ") + error);
        devices.append(*device);
    }
    if (devices.isEmpty()) {
        ServerConfig config = ServerConfig::embedded();
        if (parser.isSet(modelOption))
            config.modelPaths = {parser.value(modelOption)};
        else if (const auto model = ModelCatalog().defaultModel())
            config.modelPaths = {model->name};
        config.token = token;
        config.maxInFlightPerConnection = std::max(config.maxInFlightPerConnection, perDevice);
        if (!m_quiet)
            cli::printErr(QStringLiteral("starting the embedded server…"));
        m_server = std::make_unique<DetectionServer>();
        if (!m_server->start(config, &error)) {
            cli::printErr(QStringLiteral("edgelens-cli live: ") + error.trimmed());
            return m_server->startFailure() == DetectionServer::StartFailure::NoModel ? int(NoModel)
                                                                                     : int(NothingDetected);
        }
        DeviceSpec local;
        local.host = QStringLiteral("127.0.0.1");
        local.port = m_server->serverPort();
        local.label = DeviceSpec::embeddedLabel();
        local.protocol = DetectionClient::Protocol::V2;
        devices.append(local);
    } else if (parser.isSet(modelOption)) {
        options.detect.model = parser.value(modelOption);
    }
    m_client.setMaxInFlight(perDevice);
    m_client.setToken(token);
    m_client.setTimeout(10000);
    m_client.setMaxRetries(1);
    m_client.setDevices(devices);

    options.maxInFlight = perDevice * int(devices.size());
    options.deadlineMs = parser.isSet(noDeadlineOption) ? -1 : deadline;
    options.display = parser.isSet(newestOption) ? LivePipeline::Display::NewestFrame
                                                 : LivePipeline::Display::DetectedFrame;
    m_source = std::make_unique<StreamSource>(*spec);
    m_pipeline = std::make_unique<LivePipeline>(&m_client, m_source.get(), options);

    connect(m_source.get(), &StreamSource::stateChanged, this,
            [this](StreamSource::State state, const QString &message) {
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
            });
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
    if (duration > 0)
        QTimer::singleShot(int(duration * 1000), this, &LiveCommand::finish);

    if (!m_quiet)
        cli::printErr(QStringLiteral("live from %1 (%2)").arg(spec->display(), StreamSpec::kindName(spec->kind)));
    m_clock.start();
    m_pipeline->start();
    QCoreApplication::exec();

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

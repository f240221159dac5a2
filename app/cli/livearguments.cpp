#include "livearguments.h"

#include "protocol/protocol.h"

#include <QCommandLineParser>

namespace edgelens {

QString LiveArguments::parse(const QStringList &arguments)
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

    const QStringList positional = parser.positionalArguments();
    if (positional.size() != 2)
        return QStringLiteral("give one source; try `edgelens-cli live --help`");
    bool ok = false;
    durationSeconds = parser.value(durationOption).toDouble(&ok);
    if (!ok || durationSeconds < 0)
        return QStringLiteral("--duration must be a number of seconds (0: until interrupted)");
    perDevice = parser.value(inFlightOption).toInt(&ok);
    if (!ok || perDevice < 1 || perDevice > 16)
        return QStringLiteral("--max-in-flight must be 1..16");
    const int deadline = parser.value(deadlineOption).toInt(&ok);
    if (!ok || deadline < 1 || deadline > 3600000)
        return QStringLiteral("--deadline-ms must be 1..3600000");
    const uint port = parser.value(portOption).toUInt(&ok);
    if (!ok || port == 0 || port > 65535)
        return QStringLiteral("--port must be 1..65535");
    if (parser.isSet(confOption)) {
        pipeline.detect.confidence = parser.value(confOption).toFloat(&ok);
        if (!ok || pipeline.detect.confidence < 0 || pipeline.detect.confidence > 1)
            return QStringLiteral("--conf must be between 0 and 1");
    }
    QString error;
    const std::optional<StreamSpec> spec = StreamSpec::parse(positional.at(1), &error);
    if (!spec)
        return error;
    source = *spec;
    if (parser.isSet(udpOption))
        source.rtspTransport = StreamSpec::RtspTransport::Udp;
    source.loop = !parser.isSet(onceOption);
    for (const QString &text : parser.values(hostOption)) {
        const auto device = DeviceSpec::parse(text, quint16(port), &error);
        if (!device)
            return QStringLiteral("--host ") + error;
        devices.append(*device);
    }
    if (parser.isSet(modelOption))
        model = parser.value(modelOption);
    token = parser.isSet(tokenOption) ? parser.value(tokenOption) : qEnvironmentVariable("EDGELENS_TOKEN");
    pipeline.deadlineMs = parser.isSet(noDeadlineOption) ? -1 : deadline;
    pipeline.display = parser.isSet(newestOption) ? LivePipeline::Display::NewestFrame
                                                  : LivePipeline::Display::DetectedFrame;
    jsonLines = parser.isSet(jsonOption);
    quiet = parser.isSet(quietOption);
    verbose = parser.isSet(verboseOption);
    return {};
}

} // namespace edgelens

#include "detectarguments.h"

#include "inputs/samplingrule.h"
#include "protocol/protocol.h"
#include "protocol/tlsfingerprint.h"

#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>

namespace edgelens {

namespace {

std::optional<DetectionClient::Protocol> parseProtocol(const QString &text)
{
    if (text == QLatin1String("auto"))
        return DetectionClient::Protocol::Auto;
    if (text == QLatin1String("v2"))
        return DetectionClient::Protocol::V2;
    if (text == QLatin1String("legacy"))
        return DetectionClient::Protocol::Legacy;
    if (text == QLatin1String("deepstack"))
        return DetectionClient::Protocol::DeepStack;
    return std::nullopt;
}

// The options of the detect command, in --help's order.
void addOptions(QCommandLineParser &parser)
{
    parser.setApplicationDescription(QStringLiteral(
        "Sends images to an EdgeLens server and saves the marked-up results.\n"
        "Without --host the images go to a server started inside this process (--embedded).\n"
        "Other commands: `edgelens-cli models list|download NAME|verify`, `edgelens-cli eval ...`."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("paths"),
                                 QStringLiteral("Image and video files and folders (searched recursively)."),
                                 QStringLiteral("PATHS..."));
    parser.addOption(QCommandLineOption(QStringLiteral("host"),
                                        QStringLiteral("Server address, HOST or HOST:PORT ([addr]:port for IPv6). "
                                                       "Repeat it to spread the images over several devices."),
                                        QStringLiteral("host")));
    parser.addOption(QCommandLineOption(QStringLiteral("port"), QStringLiteral("Server port (default 6000)."),
                                        QStringLiteral("port"), QString::number(protocol::kDefaultPort)));
    parser.addOption(QCommandLineOption(QStringLiteral("embedded"),
                                            QStringLiteral("Start a server in this process on 127.0.0.1 (default "
                                                           "when --host is not given; with --host it joins the "
                                                           "devices).")));
    parser.addOption(QCommandLineOption(QStringLiteral("protocol"),
                                            QStringLiteral("auto (default), v2, legacy, or deepstack: the HTTP API "
                                                           "of DeepStack / CodeProject.AI Server / edgelens-server "
                                                           "--http-port (give that port)."),
                                            QStringLiteral("protocol"), QStringLiteral("auto")));
    parser.addOption(QCommandLineOption(QStringLiteral("conf"), QStringLiteral("Confidence threshold (default 0.5)."),
                                        QStringLiteral("C")));
    parser.addOption(QCommandLineOption(QStringLiteral("nms"), QStringLiteral("NMS IoU (default: the model's)."),
                                       QStringLiteral("IOU")));
    parser.addOption(QCommandLineOption(QStringLiteral("model"),
                                         QStringLiteral("Model name (see `models list`); with --embedded also a "
                                                        "weights file, folder or manifest."),
                                         QStringLiteral("NAME")));
    parser.addOption(QCommandLineOption(QStringLiteral("concurrency"),
                                               QStringLiteral("Requests in flight per device (default 4)."), QStringLiteral("N"),
                                               QStringLiteral("4")));
    parser.addOption(QCommandLineOption(QStringLiteral("output"),
                                          QStringLiteral("Output folder (default ./inferenced)."), QStringLiteral("DIR"),
                                          QStringLiteral("inferenced")));
    parser.addOption(QCommandLineOption(QStringLiteral("json"), QStringLiteral("Also write a JSON sidecar per image.")));
    parser.addOption(QCommandLineOption(QStringLiteral("token"),
                                         QStringLiteral("Access token (default: $EDGELENS_TOKEN)."), QStringLiteral("T")));
    parser.addOption(QCommandLineOption(QStringLiteral("timeout"),
                                           QStringLiteral("Seconds to wait for each answer (default 60)."),
                                           QStringLiteral("S"), QStringLiteral("60")));
    parser.addOption(QCommandLineOption(QStringLiteral("retries"),
                                           QStringLiteral("Re-sends after a dropped connection (default 3)."),
                                           QStringLiteral("N"), QStringLiteral("3")));
    parser.addOption(QCommandLineOption(QStringLiteral("tls"),
                                       QStringLiteral("Connect with TLS. A certificate no authority vouches for is "
                                                      "trusted on first use and remembered (see `edgelens-cli devices`).")));
    parser.addOption(QCommandLineOption(QStringLiteral("tls-fingerprint"),
                                               QStringLiteral("Accept only the certificate with this SHA-256 "
                                                              "fingerprint (as edgelens-server logs it); implies --tls."),
                                               QStringLiteral("sha256:HEX")));
    parser.addOption(QCommandLineOption(
        QStringLiteral("send-original"),
        QStringLiteral("Send original files: every file as it is. By default a v2 server gets a reduced copy of a "
                       "photo much larger than its model's input (boxes still come back in the original's pixels).")));
    parser.addOption(QCommandLineOption(
        QStringLiteral("result-max-side"),
        QStringLiteral("v2: the result JPEG, drawn here on the original, fits within N x N pixels (default 2048); "
                       "0: original size. Legacy servers send their own marked-up image."),
        QStringLiteral("N"), QStringLiteral("2048")));
    parser.addOption(QCommandLineOption(QStringLiteral("every-frames"),
                                               QStringLiteral("Videos: keep frames 0, N, 2N, ... (in the order they are shown, as ffprobe numbers them)."),
                                               QStringLiteral("N")));
    parser.addOption(QCommandLineOption(QStringLiteral("every-seconds"),
                                                QStringLiteral("Videos: keep one frame every T seconds of the "
                                                               "decoder's time (default 1)."),
                                                QStringLiteral("T")));
    parser.addOption(QCommandLineOption(QStringLiteral("scene-changes"),
                                         QStringLiteral("Videos: keep the first frame and each frame whose 64x36 grey "
                                                        "thumbnail differs from the previous frame's by more than "
                                                        "--scene-threshold grey levels on average.")));
    parser.addOption(QCommandLineOption(QStringLiteral("scene-threshold"),
                                                  QStringLiteral("Mean grey-level difference of a cut (default 20)."),
                                                  QStringLiteral("G"), QStringLiteral("20")));
    parser.addOption(QCommandLineOption(QStringLiteral("from"), QStringLiteral("Videos: start at S seconds."),
                                        QStringLiteral("S")));
    parser.addOption(QCommandLineOption(QStringLiteral("to"), QStringLiteral("Videos: stop after S seconds."),
                                      QStringLiteral("S")));
    parser.addOption(QCommandLineOption(QStringLiteral("frame-format"),
                                               QStringLiteral("Videos: extracted frames as jpg (default) or png."),
                                               QStringLiteral("jpg|png"), QStringLiteral("jpg")));
    parser.addOption(QCommandLineOption(QStringLiteral("quiet"), QStringLiteral("Only errors and the summary.")));
    parser.addOption(QCommandLineOption(QStringLiteral("verbose"),
                                           QStringLiteral("Also show the embedded server's and the client's log.")));
}

// How videos are sampled: one rule for every video of the run. Empty, or the usage error.
QString readSampling(const QCommandLineParser &parser, FrameExtractor::Options *out)
{
    const int ruleOptions = int(parser.isSet(QStringLiteral("every-frames"))) + int(parser.isSet(QStringLiteral("every-seconds")))
        + int(parser.isSet(QStringLiteral("scene-changes")));
    if (ruleOptions > 1)
        return QStringLiteral("choose one of --every-frames, --every-seconds and --scene-changes");
    SamplingRule rule;
    bool numberOk = true;
    if (parser.isSet(QStringLiteral("every-frames")))
        rule = SamplingRule::everyNFrames(parser.value(QStringLiteral("every-frames")).toInt(&numberOk));
    else if (parser.isSet(QStringLiteral("scene-changes")))
        rule = SamplingRule::sceneChanges(parser.value(QStringLiteral("scene-threshold")).toDouble(&numberOk));
    else if (parser.isSet(QStringLiteral("every-seconds")))
        rule = SamplingRule::everySecondsRule(parser.value(QStringLiteral("every-seconds")).toDouble(&numberOk));
    bool fromOk = true;
    bool toOk = true;
    if (parser.isSet(QStringLiteral("from")))
        rule.startMs = parser.value(QStringLiteral("from")).toDouble(&fromOk) * 1000.0;
    if (parser.isSet(QStringLiteral("to")))
        rule.endMs = parser.value(QStringLiteral("to")).toDouble(&toOk) * 1000.0;
    QString ruleError;
    if (!numberOk || !fromOk || !toOk)
        return QStringLiteral("the sampling options take numbers");
    if (!rule.isValid(&ruleError))
        return ruleError;
    out->rule = rule;
    out->suffix = parser.value(QStringLiteral("frame-format")).toLower();
    if (out->suffix == QLatin1String("jpeg"))
        out->suffix = QStringLiteral("jpg");
    if (out->suffix != QLatin1String("jpg") && out->suffix != QLatin1String("png"))
        return QStringLiteral("--frame-format is jpg or png");
    return QString();
}

} // namespace

QString DetectArguments::parse(const QStringList &arguments)
{
    QCommandLineParser parser;
    addOptions(parser);
    parser.process(arguments); // exits for --help, --version and unknown options

    paths = parser.positionalArguments();
    if (paths.isEmpty())
        return QStringLiteral("no images given; try `edgelens-cli --help`");
    const auto protocolChoice = parseProtocol(parser.value(QStringLiteral("protocol")));
    if (!protocolChoice)
        return QStringLiteral("--protocol must be auto, v2, legacy or deepstack");
    bool ok = false;
    const uint port = parser.value(QStringLiteral("port")).toUInt(&ok);
    if (!ok || port == 0 || port > 65535)
        return QStringLiteral("--port must be 1..65535");
    concurrency = parser.value(QStringLiteral("concurrency")).toInt(&ok);
    if (!ok || concurrency < 1 || concurrency > 256)
        return QStringLiteral("--concurrency must be 1..256");
    timeoutSeconds = parser.value(QStringLiteral("timeout")).toDouble(&ok);
    if (!ok || timeoutSeconds <= 0)
        return QStringLiteral("--timeout must be a positive number of seconds");
    retries = parser.value(QStringLiteral("retries")).toInt(&ok);
    if (!ok || retries < 0 || retries > 20)
        return QStringLiteral("--retries must be 0..20");
    if (parser.isSet(QStringLiteral("conf"))) {
        options.confidence = parser.value(QStringLiteral("conf")).toFloat(&ok);
        if (!ok || options.confidence < 0 || options.confidence > 1)
            return QStringLiteral("--conf must be between 0 and 1");
    }
    if (parser.isSet(QStringLiteral("nms"))) {
        options.nmsIou = parser.value(QStringLiteral("nms")).toFloat(&ok);
        if (!ok || options.nmsIou < 0 || options.nmsIou > 1)
            return QStringLiteral("--nms must be between 0 and 1");
    }
    resultMaxSide = parser.value(QStringLiteral("result-max-side")).toInt(&ok);
    if (!ok || resultMaxSide < 0)
        return QStringLiteral("--result-max-side must be 0 (original size) or a number of pixels");
    sendOriginal = parser.isSet(QStringLiteral("send-original"));
    quiet = parser.isSet(QStringLiteral("quiet"));
    verbose = parser.isSet(QStringLiteral("verbose"));
    token = parser.isSet(QStringLiteral("token")) ? parser.value(QStringLiteral("token")) : qEnvironmentVariable("EDGELENS_TOKEN");
    embedded = !parser.isSet(QStringLiteral("host")) || parser.isSet(QStringLiteral("embedded"));
    const bool tls = parser.isSet(QStringLiteral("tls")) || parser.isSet(QStringLiteral("tls-fingerprint"));
    const QString pin = parser.isSet(QStringLiteral("tls-fingerprint"))
        ? TlsFingerprint::normalize(parser.value(QStringLiteral("tls-fingerprint")))
        : QString();
    if (parser.isSet(QStringLiteral("tls-fingerprint")) && pin.isEmpty())
        return QStringLiteral("--tls-fingerprint must be sha256: followed by 64 hex digits");
    if (*protocolChoice == DetectionClient::Protocol::DeepStack && !parser.isSet(QStringLiteral("host")))
        return QStringLiteral("--protocol deepstack needs --host (the embedded server has no HTTP port)");
    if (tls && !parser.isSet(QStringLiteral("host")))
        return QStringLiteral("--tls needs --host (the embedded server is reached over loopback)");
    for (const QString &text : parser.values(QStringLiteral("host"))) {
        QString error;
        const auto device = DeviceSpec::parse(text, quint16(port), &error);
        if (!device)
            return QStringLiteral("--host ") + error;
        devices.append(*device);
        devices.last().protocol = *protocolChoice;
        devices.last().tls = tls;
        devices.last().tlsFingerprint = pin;
    }
    outputDir = QDir::cleanPath(QFileInfo(parser.value(QStringLiteral("output"))).absoluteFilePath());
    json = parser.isSet(QStringLiteral("json"));
    if (parser.isSet(QStringLiteral("model")))
        model = parser.value(QStringLiteral("model"));

    if (const QString error = readSampling(parser, &frames); !error.isEmpty())
        return error;
    clientProtocol = *protocolChoice;
    return QString();
}

} // namespace edgelens

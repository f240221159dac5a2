#include "detectcommand.h"

#include "console.h"

#include "models/modelcatalog.h"
#include "net/detectionserver.h"
#include "net/serverconfig.h"

#include "client/tlssocketfactory.h"
#include "export/motexport.h"
#include "inputs/videofeed.h"
#include "inputs/videofilesource.h"
#include "protocol/tlsfingerprint.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QLoggingCategory>
#include <QTimer>
#include <QtConcurrent/QtConcurrentRun>
#include <QtConcurrent/qtconcurrenttask.h>

#include <utility>

Q_LOGGING_CATEGORY(lcCli, "edgelens.cli", QtInfoMsg)

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

struct SaveOutcome
{
    ClientResult result;
    QString error;
};

struct Finishing
{
    PreparedImage prepared;
    bool drawLocally = false;
    int maxSide = 0;
    QString note;
    int jpegQuality = 90;
};

// Worker thread: boxes back to the original's pixels, the markup drawn here on the original
// (read again rather than kept: only in-flight work holds image bytes), the files written.
SaveOutcome completeAndWrite(const ResultWriter *writer, const ScannedImage &image, ClientResult result,
                             const Finishing &how)
{
    SaveOutcome out;
    if (!ImageTransfer::completeResultFromFile(result.result, &result.jpeg, image.absolutePath, how.prepared,
                                               how.drawLocally, how.maxSide, how.jpegQuality, how.note, &out.error))
        return out;
    writer->write(image, result, &out.error);
    out.result = std::move(result);
    return out;
}

} // namespace

DetectCommand::DetectCommand()
{
    connect(&m_client, &DetectionClient::resultReady, this, &DetectCommand::handleResult);
    connect(&m_client, &DetectionClient::requestFailed, this, &DetectCommand::handleFailure);
    connect(&m_client, &DetectionClient::serverInfoReceived, this,
            [this](quint64 id, const QJsonObject &info, double, const QString &device) {
                handleServerInfo(id, info, device);
            });
    connect(&m_client, &DetectionClient::requestRetrying, this, [this](quint64 id, int attempt, const QString &why) {
        if (!m_quiet && m_inFlight.contains(id)) {
            cli::printErr(QStringLiteral("%1: retrying (attempt %2): %3")
                         .arg(m_images.at(m_inFlight.value(id)).relativePath)
                         .arg(attempt)
                         .arg(why));
        }
    });
    // Like ssh: a new device's certificate is trusted and recorded, and the user is told so.
    connect(m_client.tls(), &TlsSocketFactory::trustNeeded, this, [this](const DeviceSpec &device, const QString &fp) {
        m_client.tls()->decide(device.key(), fp, TlsSocketFactory::Decision::AcceptAlways);
    });
    connect(m_client.tls(), &TlsSocketFactory::deviceRemembered, this,
            [](const DeviceSpec &device, const QString &fp, const QString &file) {
                cli::printErr(QStringLiteral("%1: first TLS connection; trusting its certificate %2 from now on "
                                             "(recorded in %3; `edgelens-cli devices forget %1` forgets it)")
                                  .arg(device.name(), fp, file));
            });
    connect(m_client.tls(), &TlsSocketFactory::fingerprintChanged, this,
            [](const DeviceSpec &device, const QString &expected, const QString &offered, bool pinned) {
                cli::printErr(pinned ? QStringLiteral("edgelens-cli: %1 offered a certificate with fingerprint %2, "
                                                      "not the pinned fingerprint %3: refusing it")
                                           .arg(device.name(), offered, expected)
                                     : QStringLiteral("edgelens-cli: WARNING: the TLS certificate of %1 has CHANGED "
                                                      "(known fingerprint %2, offered %3). Refusing it. If you "
                                                      "trust the change: edgelens-cli devices forget %1")
                                           .arg(device.name(), expected, offered));
            });
    connect(&m_client, &DetectionClient::protocolDetected, this, [this](DetectionClient::Protocol protocol) {
        if (!m_quiet && protocol == DetectionClient::Protocol::Legacy)
            cli::printErr(QStringLiteral("server speaks only the legacy protocol: results are images without detection data"));
    });
}

DetectCommand::~DetectCommand() = default;

int DetectCommand::run(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Sends images to an EdgeLens server and saves the marked-up results.\n"
        "Without --host the images go to a server started inside this process (--embedded).\n"
        "Other commands: `edgelens-cli models list|download NAME|verify`, `edgelens-cli eval ...`."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("paths"),
                                 QStringLiteral("Image and video files and folders (searched recursively)."),
                                 QStringLiteral("PATHS..."));
    const QCommandLineOption hostOption(QStringLiteral("host"),
                                        QStringLiteral("Server address, HOST or HOST:PORT ([addr]:port for IPv6). "
                                                       "Repeat it to spread the images over several devices."),
                                        QStringLiteral("host"));
    const QCommandLineOption portOption(QStringLiteral("port"), QStringLiteral("Server port (default 6000)."),
                                        QStringLiteral("port"), QString::number(protocol::kDefaultPort));
    const QCommandLineOption embeddedOption(QStringLiteral("embedded"),
                                            QStringLiteral("Start a server in this process on 127.0.0.1 (default "
                                                           "when --host is not given; with --host it joins the "
                                                           "devices)."));
    const QCommandLineOption protocolOption(QStringLiteral("protocol"),
                                            QStringLiteral("auto (default), v2, legacy, or deepstack: the HTTP API "
                                                           "of DeepStack / CodeProject.AI Server / edgelens-server "
                                                           "--http-port (give that port)."),
                                            QStringLiteral("protocol"), QStringLiteral("auto"));
    const QCommandLineOption confOption(QStringLiteral("conf"), QStringLiteral("Confidence threshold (default 0.5)."),
                                        QStringLiteral("C"));
    const QCommandLineOption nmsOption(QStringLiteral("nms"), QStringLiteral("NMS IoU (default: the model's)."),
                                       QStringLiteral("IOU"));
    const QCommandLineOption modelOption(QStringLiteral("model"),
                                         QStringLiteral("Model name (see `models list`); with --embedded also a "
                                                        "weights file, folder or manifest."),
                                         QStringLiteral("NAME"));
    const QCommandLineOption concurrencyOption(QStringLiteral("concurrency"),
                                               QStringLiteral("Requests in flight per device (default 4)."), QStringLiteral("N"),
                                               QStringLiteral("4"));
    const QCommandLineOption outputOption(QStringLiteral("output"),
                                          QStringLiteral("Output folder (default ./inferenced)."), QStringLiteral("DIR"),
                                          QStringLiteral("inferenced"));
    const QCommandLineOption jsonOption(QStringLiteral("json"), QStringLiteral("Also write a JSON sidecar per image."));
    const QCommandLineOption tokenOption(QStringLiteral("token"),
                                         QStringLiteral("Access token (default: $EDGELENS_TOKEN)."), QStringLiteral("T"));
    const QCommandLineOption timeoutOption(QStringLiteral("timeout"),
                                           QStringLiteral("Seconds to wait for each answer (default 60)."),
                                           QStringLiteral("S"), QStringLiteral("60"));
    const QCommandLineOption retriesOption(QStringLiteral("retries"),
                                           QStringLiteral("Re-sends after a dropped connection (default 3)."),
                                           QStringLiteral("N"), QStringLiteral("3"));
    const QCommandLineOption tlsOption(QStringLiteral("tls"),
                                       QStringLiteral("Connect with TLS. A certificate no authority vouches for is "
                                                      "trusted on first use and remembered (see `edgelens-cli devices`)."));
    const QCommandLineOption fingerprintOption(QStringLiteral("tls-fingerprint"),
                                               QStringLiteral("Accept only the certificate with this SHA-256 "
                                                              "fingerprint (as edgelens-server logs it); implies --tls."),
                                               QStringLiteral("sha256:HEX"));
    const QCommandLineOption sendOriginalOption(
        QStringLiteral("send-original"),
        QStringLiteral("Send original files: every file as it is. By default a v2 server gets a reduced copy of a "
                       "photo much larger than its model's input (boxes still come back in the original's pixels)."));
    const QCommandLineOption resultSizeOption(
        QStringLiteral("result-max-side"),
        QStringLiteral("v2: the result JPEG, drawn here on the original, fits within N x N pixels (default 2048); "
                       "0: original size. Legacy servers send their own marked-up image."),
        QStringLiteral("N"), QStringLiteral("2048"));
    const QCommandLineOption everyFramesOption(QStringLiteral("every-frames"),
                                               QStringLiteral("Videos: keep frames 0, N, 2N, ... (decode order)."),
                                               QStringLiteral("N"));
    const QCommandLineOption everySecondsOption(QStringLiteral("every-seconds"),
                                                QStringLiteral("Videos: keep one frame every T seconds of the "
                                                               "decoder's time (default 1)."),
                                                QStringLiteral("T"));
    const QCommandLineOption sceneOption(QStringLiteral("scene-changes"),
                                         QStringLiteral("Videos: keep the first frame and each frame whose 64x36 grey "
                                                        "thumbnail differs from the previous frame's by more than "
                                                        "--scene-threshold grey levels on average."));
    const QCommandLineOption sceneThresholdOption(QStringLiteral("scene-threshold"),
                                                  QStringLiteral("Mean grey-level difference of a cut (default 20)."),
                                                  QStringLiteral("G"), QStringLiteral("20"));
    const QCommandLineOption fromOption(QStringLiteral("from"), QStringLiteral("Videos: start at S seconds."),
                                        QStringLiteral("S"));
    const QCommandLineOption toOption(QStringLiteral("to"), QStringLiteral("Videos: stop after S seconds."),
                                      QStringLiteral("S"));
    const QCommandLineOption frameFormatOption(QStringLiteral("frame-format"),
                                               QStringLiteral("Videos: extracted frames as jpg (default) or png."),
                                               QStringLiteral("jpg|png"), QStringLiteral("jpg"));
    const QCommandLineOption quietOption(QStringLiteral("quiet"), QStringLiteral("Only errors and the summary."));
    const QCommandLineOption verboseOption(QStringLiteral("verbose"),
                                           QStringLiteral("Also show the embedded server's and the client's log."));
    parser.addOptions({hostOption, portOption, embeddedOption, protocolOption, confOption, nmsOption, modelOption,
                       concurrencyOption, outputOption, jsonOption, tokenOption, timeoutOption, retriesOption,
                       tlsOption, fingerprintOption, sendOriginalOption, resultSizeOption, everyFramesOption,
                       everySecondsOption, sceneOption, sceneThresholdOption, fromOption, toOption, frameFormatOption,
                       quietOption, verboseOption});
    parser.process(arguments); // exits for --help, --version and unknown options

    auto usage = [](const QString &message) {
        cli::printErr(QStringLiteral("edgelens-cli: ") + message);
        return int(UsageError);
    };
    const QStringList paths = parser.positionalArguments();
    if (paths.isEmpty())
        return usage(QStringLiteral("no images given; try `edgelens-cli --help`"));
    const auto protocolChoice = parseProtocol(parser.value(protocolOption));
    if (!protocolChoice)
        return usage(QStringLiteral("--protocol must be auto, v2, legacy or deepstack"));
    bool ok = false;
    const uint port = parser.value(portOption).toUInt(&ok);
    if (!ok || port == 0 || port > 65535)
        return usage(QStringLiteral("--port must be 1..65535"));
    const int concurrency = parser.value(concurrencyOption).toInt(&ok);
    if (!ok || concurrency < 1 || concurrency > 256)
        return usage(QStringLiteral("--concurrency must be 1..256"));
    const double timeoutSeconds = parser.value(timeoutOption).toDouble(&ok);
    if (!ok || timeoutSeconds <= 0)
        return usage(QStringLiteral("--timeout must be a positive number of seconds"));
    const int retries = parser.value(retriesOption).toInt(&ok);
    if (!ok || retries < 0 || retries > 20)
        return usage(QStringLiteral("--retries must be 0..20"));
    if (parser.isSet(confOption)) {
        m_options.confidence = parser.value(confOption).toFloat(&ok);
        if (!ok || m_options.confidence < 0 || m_options.confidence > 1)
            return usage(QStringLiteral("--conf must be between 0 and 1"));
    }
    if (parser.isSet(nmsOption)) {
        m_options.nmsIou = parser.value(nmsOption).toFloat(&ok);
        if (!ok || m_options.nmsIou < 0 || m_options.nmsIou > 1)
            return usage(QStringLiteral("--nms must be between 0 and 1"));
    }
    m_resultMaxSide = parser.value(resultSizeOption).toInt(&ok);
    if (!ok || m_resultMaxSide < 0)
        return usage(QStringLiteral("--result-max-side must be 0 (original size) or a number of pixels"));
    m_sendOriginal = parser.isSet(sendOriginalOption);
    m_quiet = parser.isSet(quietOption);
    // The embedded server's per-request log would drown the progress lines.
    ServerConfig::applyLogLevel(parser.isSet(verboseOption) ? QStringLiteral("info") : QStringLiteral("warning"),
                                nullptr);
    const QString token = parser.isSet(tokenOption) ? parser.value(tokenOption) : qEnvironmentVariable("EDGELENS_TOKEN");
    const bool embedded = !parser.isSet(hostOption) || parser.isSet(embeddedOption);
    const bool tls = parser.isSet(tlsOption) || parser.isSet(fingerprintOption);
    const QString pin = parser.isSet(fingerprintOption)
        ? TlsFingerprint::normalize(parser.value(fingerprintOption))
        : QString();
    if (parser.isSet(fingerprintOption) && pin.isEmpty())
        return usage(QStringLiteral("--tls-fingerprint must be sha256: followed by 64 hex digits"));
    if (*protocolChoice == DetectionClient::Protocol::DeepStack && !parser.isSet(hostOption))
        return usage(QStringLiteral("--protocol deepstack needs --host (the embedded server has no HTTP port)"));
    if (tls && !parser.isSet(hostOption))
        return usage(QStringLiteral("--tls needs --host (the embedded server is reached over loopback)"));
    QList<DeviceSpec> devices;
    for (const QString &text : parser.values(hostOption)) {
        QString error;
        const auto device = DeviceSpec::parse(text, quint16(port), &error);
        if (!device)
            return usage(QStringLiteral("--host ") + error);
        devices.append(*device);
        devices.last().protocol = *protocolChoice;
        devices.last().tls = tls;
        devices.last().tlsFingerprint = pin;
    }
    const QString outputDir = QDir::cleanPath(QFileInfo(parser.value(outputOption)).absoluteFilePath());
    m_outputDir = outputDir;

    // How videos are sampled: one rule for every video of the run.
    const int ruleOptions = int(parser.isSet(everyFramesOption)) + int(parser.isSet(everySecondsOption))
        + int(parser.isSet(sceneOption));
    if (ruleOptions > 1)
        return usage(QStringLiteral("choose one of --every-frames, --every-seconds and --scene-changes"));
    SamplingRule rule;
    bool numberOk = true;
    if (parser.isSet(everyFramesOption))
        rule = SamplingRule::everyNFrames(parser.value(everyFramesOption).toInt(&numberOk));
    else if (parser.isSet(sceneOption))
        rule = SamplingRule::sceneChanges(parser.value(sceneThresholdOption).toDouble(&numberOk));
    else if (parser.isSet(everySecondsOption))
        rule = SamplingRule::everySecondsRule(parser.value(everySecondsOption).toDouble(&numberOk));
    bool fromOk = true;
    bool toOk = true;
    if (parser.isSet(fromOption))
        rule.startMs = parser.value(fromOption).toDouble(&fromOk) * 1000.0;
    if (parser.isSet(toOption))
        rule.endMs = parser.value(toOption).toDouble(&toOk) * 1000.0;
    QString ruleError;
    if (!numberOk || !fromOk || !toOk)
        return usage(QStringLiteral("the sampling options take numbers"));
    if (!rule.isValid(&ruleError))
        return usage(ruleError);
    m_frameOptions.rule = rule;
    m_frameOptions.suffix = parser.value(frameFormatOption).toLower();
    if (m_frameOptions.suffix == QLatin1String("jpeg"))
        m_frameOptions.suffix = QStringLiteral("jpg");
    if (m_frameOptions.suffix != QLatin1String("jpg") && m_frameOptions.suffix != QLatin1String("png"))
        return usage(QStringLiteral("--frame-format is jpg or png"));

    // What to process. Files named explicitly but of an unsupported type are failures: the
    // user asked for them. Those met inside folders are only counted.
    ImageScanner scanner;
    scanner.setExcludedFolders({outputDir});
    const ScanResult scan = scanner.scan(paths);
    m_skippedOutputFolders = scan.skippedOutputFolders;
    m_skippedOutputImages = scan.skippedOutputImages;
    QStringList explicitlyBad;
    for (const QString &path : paths) {
        const QFileInfo info(path);
        if (info.isFile() && !ImageScanner::isSupportedImage(path) && !VideoFileSource::isSupportedVideo(path))
            explicitlyBad.append(path);
    }
    for (const QString &missing : scan.missing) {
        cli::printErr(QStringLiteral("%1: FAILED: no such file or folder, or not readable").arg(missing));
        ++m_failed;
    }
    for (const QString &bad : std::as_const(explicitlyBad)) {
        cli::printErr(QStringLiteral("%1: FAILED: not a supported image or video type (%2; %3)")
                     .arg(bad, ImageScanner::supportedSuffixes().join(QLatin1Char(' ')),
                          VideoFileSource::supportedSuffixes().join(QLatin1Char(' '))));
        ++m_failed;
    }
    const int skippedInFolders = int(scan.skipped.size()) - int(explicitlyBad.size());
    if (skippedInFolders > 0 && !m_quiet)
        cli::printErr(QStringLiteral("skipping %1 file(s) that are neither images nor videos").arg(skippedInFolders));
    if (scan.skippedOutputFolders > 0 && !m_quiet)
        cli::printErr(QStringLiteral("skipping %1 EdgeLens output folder(s) (%2 image(s) in them)")
                          .arg(scan.skippedOutputFolders)
                          .arg(scan.skippedOutputImages));
    m_images = scan.images;
    probeVideos(scan.videos); // says what each video will give before anything runs
    m_failedBeforeStart = m_failed;
    if (m_images.isEmpty() && m_videos.isEmpty()) {
        cli::printErr(QStringLiteral("edgelens-cli: no images or videos found in %1").arg(paths.join(QStringLiteral(", "))));
        cli::printOut(QStringLiteral("0 images, %1 failed, 0.0 images/s").arg(m_failed));
        printSkippedOutputs();
        return SomeFailed;
    }

    m_writer.setOutputDir(outputDir);
    m_writer.setWriteJson(parser.isSet(jsonOption));
    m_writer.planOutputs(m_images);

    DetectionClient::Protocol protocolToUse = *protocolChoice;
    if (embedded) {
        ServerConfig config = ServerConfig::embedded();
        if (parser.isSet(modelOption)) {
            config.modelPaths = {parser.value(modelOption)};
        } else if (const auto model = ModelCatalog().defaultModel()) {
            config.modelPaths = {model->name}; // load one model, not every one found
        }
        config.confidence = m_options.confidence;
        config.nmsIou = m_options.nmsIou;
        config.token = token;
        // One image may be large; the embedded server is ours, so only the client's limits apply.
        config.maxInFlightPerConnection = std::max(config.maxInFlightPerConnection, concurrency);
        if (!m_quiet)
            cli::printErr(QStringLiteral("starting the embedded server…"));
        m_server = std::make_unique<DetectionServer>();
        QString error;
        if (!m_server->start(config, &error)) {
            cli::printErr(QStringLiteral("edgelens-cli: ") + error.trimmed());
            return m_server->startFailure() == DetectionServer::StartFailure::NoModel ? int(NoModel) : int(SomeFailed);
        }
        const QStringList models = m_server->modelNames();
        if (!m_quiet) {
            cli::printErr(QStringLiteral("embedded server on %1, model %2%3")
                         .arg(m_server->listenAddress(), models.value(0),
                              m_server->usingFallback() ? QStringLiteral(" (FALLBACK: face/body cascades only)")
                                                        : QString()));
        }
        DeviceSpec local;
        local.host = QStringLiteral("127.0.0.1");
        local.port = m_server->serverPort();
        local.label = DeviceSpec::embeddedLabel(); // its port is new every run: results name it so
        // It is ours: no need to probe; it has no HTTP port, so it joins a DeepStack pool over v2.
        local.protocol = protocolToUse == DetectionClient::Protocol::Auto
                || protocolToUse == DetectionClient::Protocol::DeepStack
            ? DetectionClient::Protocol::V2
            : protocolToUse;
        devices.append(local);
    } else if (parser.isSet(modelOption)) {
        m_options.model = parser.value(modelOption);
    }

    m_client.setMaxInFlight(concurrency);
    m_client.setTimeout(int(timeoutSeconds * 1000));
    m_client.setMaxRetries(retries);
    m_client.setToken(token);
    m_client.setDevices(devices);
    // Enough read ahead to keep every device busy, and no more: memory stays flat.
    m_window = concurrency * int(devices.size()) + concurrency;

    if (!m_quiet) {
        QStringList names;
        for (const DeviceSpec &device : std::as_const(devices))
            names.append(device.name());
        cli::printErr(QStringLiteral("%1 image(s)%4 -> %2 (server %3)")
                          .arg(m_images.size())
                          .arg(QDir::toNativeSeparators(outputDir), names.join(QStringLiteral(", ")),
                               m_videos.isEmpty() ? QString()
                                                  : QStringLiteral(" and %1 video(s), %2")
                                                        .arg(m_videos.size())
                                                        .arg(m_frameOptions.rule.describe())));
    }
    m_clock.start();
    QTimer::singleShot(0, this, &DetectCommand::start);
    const int code = QCoreApplication::exec();
    if (m_server)
        m_server->stop();
    return code;
}

void DetectCommand::start()
{
    const QList<DeviceSpec> devices = m_client.devices();
    const bool allLegacy = std::all_of(devices.cbegin(), devices.cend(), [](const DeviceSpec &device) {
        return device.protocol == DetectionClient::Protocol::Legacy;
    });
    if (allLegacy) {
        m_serverKind = ServerKind::Legacy;
        submitMore();
        return;
    }
    // The served models' inputs decide how far a photo can be reduced; a server that cannot
    // say (legacy) gets files as they are. Every device is asked: each may run another model.
    m_serverKind = ServerKind::Asking;
    m_served.ask(m_client, m_options.model);
    infoSettled();
}

void DetectCommand::handleServerInfo(quint64 id, const QJsonObject &info, const QString &device)
{
    if (!m_served.takeAnswer(id, info, device))
        return;
    qCInfo(lcCli).noquote() << device << "serves" << m_served.modelName(device);
    infoSettled();
}

void DetectCommand::infoSettled()
{
    // The first description starts the work (files go as they are until every device has
    // described its model); with none, the servers are legacy ones.
    if (m_serverKind == ServerKind::Asking && (m_served.anyDescribed() || m_served.complete())) {
        m_serverKind = m_served.anyDescribed() ? ServerKind::V2 : ServerKind::Legacy;
        submitMore();
    }
    if (m_served.complete()) {
        qCInfo(lcCli) << "model input for reduced copies" << m_served.input();
        if (const QString note = m_served.disagreement(); !note.isEmpty() && !m_quiet)
            cli::printErr(QStringLiteral("note: %1 (each sidecar's \"model\" names the one that produced it)").arg(note));
    }
}

void DetectCommand::submitMore()
{
    if (m_serverKind == ServerKind::Unknown || m_serverKind == ServerKind::Asking)
        return;
    pullFrames();
    TransferOptions transfer;
    transfer.sendOriginal = m_sendOriginal || m_serverKind != ServerKind::V2;
    transfer.modelInput = m_served.input();
    // Results being drawn and written do not hold a slot of the link: reading goes on while
    // they finish (bounded by a second window, so memory stays flat).
    while (m_next < m_images.size() && m_open.size() - m_saving < m_window && m_open.size() < 2 * m_window) {
        const int index = m_next++;
        Open open;
        open.drawLocally = m_serverKind == ServerKind::V2;
        m_open.insert(index, open);
        auto *watcher = new QFutureWatcher<PreparedImage>(this);
        connect(watcher, &QFutureWatcher<PreparedImage>::finished, this, [this, watcher, index] {
            watcher->deleteLater();
            PreparedImage prepared = watcher->result();
            const QString error = prepared.error;
            readFinished(index, std::move(prepared), error);
        });
        // Ahead of drawing and writing in the pool: a read feeds the link.
        watcher->setFuture(QtConcurrent::task(&ImageTransfer::readAndPrepare)
                               .withArguments(m_images.at(index).absolutePath, transfer)
                               .withPriority(1)
                               .spawn());
    }
    finishIfDone();
}

void DetectCommand::readFinished(int index, PreparedImage prepared, const QString &error)
{
    auto it = m_open.find(index);
    if (it == m_open.end())
        return;
    if (!error.isEmpty()) {
        m_open.erase(it);
        reportFailure(m_images.at(index), error);
        submitMore();
        return;
    }
    DetectOptions options = m_options;
    // Detections as data are enough: the result image is drawn here, on the original.
    if (it->drawLocally)
        options.returnImage = false;
    it->requestId = m_client.submit(prepared.payload, options);
    prepared.payload.clear(); // the client holds its own copy until the answer
    it->prepared = std::move(prepared);
    m_inFlight.insert(it->requestId, index);
}

void DetectCommand::handleResult(quint64 id, const ClientResult &result)
{
    if (!m_inFlight.contains(id))
        return;
    const int index = m_inFlight.take(id);
    auto it = m_open.find(index);
    if (it == m_open.end())
        return;
    it->requestId = 0;
    ++m_saving;
    Finishing how;
    how.prepared = it->prepared;
    // A v2 answer without an image is drawn here; a legacy one (image only) is saved as it came.
    how.drawLocally = it->drawLocally && result.hasDetectionData && result.jpeg.isEmpty();
    how.maxSide = m_resultMaxSide;
    how.note = m_served.markupNote(result.device);
    how.jpegQuality = m_options.jpegQuality;
    auto *watcher = new QFutureWatcher<SaveOutcome>(this);
    connect(watcher, &QFutureWatcher<SaveOutcome>::finished, this, [this, watcher, index] {
        watcher->deleteLater();
        const SaveOutcome out = watcher->result();
        saveFinished(index, out.result, out.error);
    });
    watcher->setFuture(QtConcurrent::run(completeAndWrite, &m_writer, m_images.at(index), result, how));
}

void DetectCommand::saveFinished(int index, const ClientResult &result, const QString &error)
{
    m_open.remove(index);
    --m_saving;
    const ScannedImage &image = m_images.at(index);
    if (!error.isEmpty()) {
        reportFailure(image, error);
    } else {
        ++m_done;
        // Frames keep their boxes until the end, when a video's boxes are linked into tracks.
        if (!image.origin.isPhoto() && result.hasDetectionData)
            m_frameResults.append(ExportItem{image.absolutePath, result.result.imageWidth, result.result.imageHeight,
                                             result.result.detections, image.origin});
        if (!m_quiet) {
            const QString what = result.hasDetectionData
                ? (result.result.detections.isEmpty() ? QStringLiteral("nothing found")
                                                      : summarizeLabels(result.result.detections, 4))
                : QStringLiteral("image only (legacy server)");
            cli::printErr(QStringLiteral("[%1/%2] %3: %4 (%5 ms)")
                         .arg(m_done + m_failed - m_failedBeforeStart)
                         .arg(std::max<qint64>(m_expected, m_images.size()))
                         .arg(image.relativePath, what)
                         .arg(result.roundTripMs, 0, 'f', 0));
        }
    }
    submitMore();
}

void DetectCommand::handleFailure(quint64 id, const QString &reason, bool retryable)
{
    Q_UNUSED(retryable)
    if (const std::optional<QString> device = m_served.takeFailure(id)) {
        // Legacy servers do not describe themselves: files go as they are, as ever.
        qCInfo(lcCli).noquote() << "no server-info from" << *device << "(" << reason << "): sending files as they are";
        infoSettled();
        return;
    }
    if (!m_inFlight.contains(id))
        return;
    const int index = m_inFlight.take(id);
    m_open.remove(index);
    reportFailure(m_images.at(index), reason);
    submitMore();
}

bool DetectCommand::probeVideos(const QList<ScannedImage> &videos)
{
    bool allOpened = true;
    m_expected = m_images.size();
    for (const ScannedImage &video : videos) {
        SourceProperties properties;
        QString error;
        if (!VideoFileSource::probe(video.absolutePath, &properties, &error)) {
            reportFailure(video, error);
            allOpened = false;
            continue;
        }
        const qint64 estimate = m_frameOptions.rule.estimatedCount(properties);
        m_videos.append(video);
        m_videoEstimates.append(estimate);
        if (estimate > 0)
            m_expected += estimate;
        if (!m_quiet) {
            cli::printErr(QStringLiteral("%1: %2x%3, %4 fps, %5 frame(s); %6 -> %7")
                              .arg(video.relativePath)
                              .arg(properties.size.width())
                              .arg(properties.size.height())
                              .arg(properties.fps, 0, 'f', 2)
                              .arg(properties.frameCount)
                              .arg(m_frameOptions.rule.describe(),
                                   estimate >= 0 ? QStringLiteral("%1 frame(s)").arg(estimate)
                                                 : QStringLiteral("as many frames as there are scenes")));
        }
    }
    return allOpened;
}

bool DetectCommand::openNextVideo()
{
    while (m_nextVideo < m_videos.size()) {
        const ScannedImage video = m_videos.at(m_nextVideo++);
        FrameExtractor::Options options = m_frameOptions;
        options.framesDir = FrameExtractor::framesDirFor(m_outputDir, video);
        auto *feed = new VideoFeed(video, options, this);
        QString error;
        if (!feed->open(&error)) {
            delete feed;
            reportFailure(video, error);
            continue;
        }
        // The output folder is EdgeLens's before the first frame lands in it: later scans skip it.
        if (!ResultWriter::markOutputFolder(m_outputDir, &error))
            cli::printErr(QStringLiteral("edgelens-cli: ") + error);
        feed->setLookAhead(m_window);
        connect(feed, &VideoFeed::frameReady, this, &DetectCommand::submitMore);
        connect(feed, &VideoFeed::variableFrameRateFound, this, [this, feed] {
            if (!m_quiet)
                cli::printErr(QStringLiteral("note: %1 has a variable frame rate; every frame keeps the decoder's "
                                             "timestamp (frame index / fps would be wrong)")
                                  .arg(feed->video().relativePath));
        });
        connect(feed, &VideoFeed::finished, this, [this, feed](bool ok, const QString &why) {
            if (!ok)
                reportFailure(feed->video(), why);
            // Deferred: this runs inside the feed's own signal.
            QTimer::singleShot(0, this, &DetectCommand::submitMore);
        });
        m_feed = feed;
        feed->start();
        return true;
    }
    return false;
}

void DetectCommand::pullFrames()
{
    // At most a window of frames waits beyond what is being read: the feed stays behind that.
    auto wanted = [this] { return m_images.size() - m_next < m_window; };
    while (wanted()) {
        if (!m_feed && !openNextVideo())
            return;
        while (m_feed->hasFrame() && wanted())
            m_images.append(m_feed->takeFrame());
        if (!m_feed->isDrained())
            return;
        m_feed->deleteLater();
        m_feed = nullptr;
    }
}

void DetectCommand::writeTracks()
{
    if (m_frameResults.isEmpty())
        return;
    const QString dir = QDir(m_outputDir).filePath(QStringLiteral("tracks"));
    QString error;
    const int sequences = exportMot(m_frameResults, {}, dir, &error);
    m_frameResults.clear();
    if (sequences < 0) {
        cli::printErr(QStringLiteral("edgelens-cli: tracks not written: ") + error);
        ++m_failed;
    } else if (!m_quiet) {
        cli::printErr(QStringLiteral("tracks of %1 video(s) -> %2 (MOTChallenge gt.txt)")
                          .arg(sequences)
                          .arg(QDir::toNativeSeparators(dir)));
    }
}

void DetectCommand::reportFailure(const ScannedImage &image, const QString &reason)
{
    ++m_failed;
    // Messages of the video layer name the file already.
    const QString prefix = image.absolutePath + QStringLiteral(": ");
    cli::printErr(QStringLiteral("%1: FAILED: %2")
                      .arg(image.absolutePath, reason.startsWith(prefix) ? reason.mid(prefix.size()) : reason));
}

void DetectCommand::printSkippedOutputs() const
{
    // Part of the closing summary: results of earlier runs found in the folders given.
    if (m_skippedOutputFolders > 0)
        cli::printOut(QStringLiteral("  skipped %1 EdgeLens output folder(s), %2 image(s)")
                          .arg(m_skippedOutputFolders)
                          .arg(m_skippedOutputImages));
}

void DetectCommand::finishIfDone()
{
    if (m_next < m_images.size() || !m_open.isEmpty() || videosPending())
        return;
    writeTracks();
    const double seconds = std::max(1e-6, double(m_clock.nsecsElapsed()) / 1e9);
    const int total = int(m_images.size()) + m_failedBeforeStart;
    // Scripts read this closing line from stdout; progress and errors went to stderr.
    cli::printOut(QStringLiteral("%1 images, %2 failed, %3 images/s")
                      .arg(total)
                      .arg(m_failed)
                      .arg(double(m_done) / seconds, 0, 'f', 1));
    printSkippedOutputs();
    // One line per device when there are several (one device's numbers are the totals).
    const QList<DeviceStatus> statuses = m_client.deviceStatuses();
    for (const DeviceStatus &status : statuses) {
        if (statuses.size() < 2)
            break;
        cli::printOut(QStringLiteral("  %1: %2 done, %3 failed, %4 images/s, down %5 time(s)%6")
                          .arg(status.device.resultName())
                          .arg(status.done)
                          .arg(status.failed)
                          .arg(double(status.done) / seconds, 0, 'f', 1)
                          .arg(status.timesDown)
                          .arg(status.state == DeviceStatus::State::Up || status.timesDown == 0
                                   ? QString()
                                   : QStringLiteral(", last error: ") + status.lastError));
    }
    QCoreApplication::exit(m_failed == 0 ? int(Success) : int(SomeFailed));
}

} // namespace edgelens

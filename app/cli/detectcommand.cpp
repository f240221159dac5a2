#include "detectcommand.h"

#include "console.h"

#include "models/modelcatalog.h"
#include "net/detectionserver.h"
#include "net/serverconfig.h"

#include "client/tlssocketfactory.h"
#include "export/motexport.h"
#include "inputs/videofeed.h"
#include "inputs/videofilesource.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QLoggingCategory>
#include <QTimer>

#include <algorithm>
#include <utility>

Q_LOGGING_CATEGORY(lcCli, "edgelens.cli", QtInfoMsg)

namespace edgelens {

DetectCommand::DetectCommand()
{
    connectClient();
    connectLoop();
}

DetectCommand::~DetectCommand()
{
    m_loop.disconnect(this);
}

void DetectCommand::connectClient()
{
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
        if (!m_args.quiet && protocol == DetectionClient::Protocol::Legacy)
            cli::printErr(QStringLiteral("server speaks only the legacy protocol: results are images without detection data"));
    });
}

void DetectCommand::connectLoop()
{
    m_loop.setSavePlanner([this](const ScannedImage &image, const ClientResult &) { return planSave(image); });
    connect(&m_loop, &ProcessingLoop::itemFinished, this, &DetectCommand::itemFinished);
    connect(&m_loop, &ProcessingLoop::itemRetrying, this, [this](const QString &path, int attempt, const QString &why) {
        if (!m_args.quiet)
            cli::printErr(QStringLiteral("%1: retrying (attempt %2): %3")
                              .arg(m_pending.value(path).relativePath)
                              .arg(attempt)
                              .arg(why));
    });
    connect(&m_loop, &ProcessingLoop::outageChanged, this, [this](bool lost, const QString &reason) {
        if (!m_args.quiet)
            cli::printErr(lost ? QStringLiteral("connection lost (%1): images wait and are sent again as it comes "
                                                "back (at most %2 s)")
                                     .arg(reason)
                                     .arg(m_loop.outagePolicy().limit() / 1000)
                               : QStringLiteral("connection back: going on"));
    });
    connect(&m_loop, &ProcessingLoop::serversDescribed, this, [this] {
        if (const QString note = m_loop.served().disagreement(); !note.isEmpty() && !m_args.quiet)
            cli::printErr(QStringLiteral("note: %1 (each sidecar's \"model\" names the one that produced it)").arg(note));
    });
    connect(&m_loop, &ProcessingLoop::frameQueued, this, [this](VideoFeed *, const ScannedImage &frame) {
        m_pending.insert(frame.absolutePath, frame);
        ++m_framesQueued;
    });
    connect(&m_loop, &ProcessingLoop::feedFinished, this, [this](VideoFeed *feed, const QString &error) {
        if (!error.isEmpty())
            reportFailure(feed->video(), error);
        openNextVideo();
    });
    // Deferred: idle comes from inside the loop's own calls.
    connect(&m_loop, &ProcessingLoop::idle, this, [this] { QTimer::singleShot(0, this, &DetectCommand::finishIfDone); });
}

int DetectCommand::run(const QStringList &arguments)
{
    if (const QString error = m_args.parse(arguments); !error.isEmpty()) {
        cli::printErr(QStringLiteral("edgelens-cli: ") + error);
        return UsageError;
    }
    // The embedded server's per-request log would drown the progress lines.
    ServerConfig::applyLogLevel(m_args.verbose ? QStringLiteral("info") : QStringLiteral("warning"), nullptr);
    if (!collectInputs())
        return SomeFailed;

    m_writer.setOutputDir(m_args.outputDir);
    m_writer.setWriteJson(m_args.json);
    m_writer.planOutputs(m_images);

    QList<DeviceSpec> devices = m_args.devices;
    if (m_args.embedded) {
        if (const int code = startEmbeddedServer(&devices); code != Success)
            return code;
    } else if (m_args.model) {
        m_args.options.model = *m_args.model;
    }

    m_client.setMaxInFlight(m_args.concurrency);
    m_client.setTimeout(int(m_args.timeoutSeconds * 1000));
    m_client.setMaxRetries(m_args.retries);
    m_client.setToken(m_args.token);
    m_client.setDevices(devices);
    ProcessingLoop::Settings settings;
    // Enough read ahead to keep every device busy, and no more: memory stays flat.
    settings.window = m_args.concurrency * int(devices.size()) + m_args.concurrency;
    settings.sendOriginalFiles = m_args.sendOriginal;
    settings.resultMaxSide = m_args.resultMaxSide;
    m_loop.setSettings(settings);
    m_loop.setDetectOptions(m_args.options);

    if (!m_args.quiet) {
        QStringList names;
        for (const DeviceSpec &device : std::as_const(devices))
            names.append(device.name());
        cli::printErr(QStringLiteral("%1 image(s)%4 -> %2 (server %3)")
                          .arg(m_images.size())
                          .arg(QDir::toNativeSeparators(m_args.outputDir), names.join(QStringLiteral(", ")),
                               m_videos.isEmpty() ? QString()
                                                  : QStringLiteral(" and %1 video(s), %2")
                                                        .arg(m_videos.size())
                                                        .arg(m_args.frames.rule.describe())));
    }
    m_clock.start();
    QTimer::singleShot(0, this, &DetectCommand::start);
    const int code = QCoreApplication::exec();
    if (m_server)
        m_server->stop();
    return code;
}

bool DetectCommand::collectInputs()
{
    // Files named explicitly but of an unsupported type are failures: the user asked for
    // them. Those met inside folders are only counted.
    const QStringList &paths = m_args.paths;
    ImageScanner scanner;
    scanner.setExcludedFolders({m_args.outputDir});
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
    if (skippedInFolders > 0 && !m_args.quiet)
        cli::printErr(QStringLiteral("skipping %1 file(s) that are neither images nor videos").arg(skippedInFolders));
    if (scan.skippedOutputFolders > 0 && !m_args.quiet)
        cli::printErr(QStringLiteral("skipping %1 EdgeLens output folder(s) (%2 image(s) in them)")
                          .arg(scan.skippedOutputFolders)
                          .arg(scan.skippedOutputImages));
    m_images = scan.images;
    probeVideos(scan.videos); // says what each video will give before anything runs
    m_failedBeforeStart = m_failed;
    if (!m_images.isEmpty() || !m_videos.isEmpty())
        return true;
    cli::printErr(QStringLiteral("edgelens-cli: no images or videos found in %1").arg(paths.join(QStringLiteral(", "))));
    cli::printOut(QStringLiteral("0 images, %1 failed, 0.0 images/s").arg(m_failed));
    printSkippedOutputs();
    return false;
}

int DetectCommand::startEmbeddedServer(QList<DeviceSpec> *devices)
{
    ServerConfig config = ServerConfig::embedded();
    if (m_args.model) {
        config.modelPaths = {*m_args.model};
    } else if (const auto model = ModelCatalog().defaultModel()) {
        config.modelPaths = {model->name}; // load one model, not every one found
    }
    config.confidence = m_args.options.confidence;
    config.nmsIou = m_args.options.nmsIou;
    config.token = m_args.token;
    // One image may be large; the embedded server is ours, so only the client's limits apply.
    config.maxInFlightPerConnection = std::max(config.maxInFlightPerConnection, m_args.concurrency);
    if (!m_args.quiet)
        cli::printErr(QStringLiteral("starting the embedded server…"));
    m_server = std::make_unique<DetectionServer>();
    QString error;
    if (!m_server->start(config, &error)) {
        cli::printErr(QStringLiteral("edgelens-cli: ") + error.trimmed());
        return m_server->startFailure() == DetectionServer::StartFailure::NoModel ? int(NoModel) : int(SomeFailed);
    }
    const QStringList models = m_server->modelNames();
    if (!m_args.quiet) {
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
    local.protocol = m_args.clientProtocol == DetectionClient::Protocol::Auto
            || m_args.clientProtocol == DetectionClient::Protocol::DeepStack
        ? DetectionClient::Protocol::V2
        : m_args.clientProtocol;
    devices->append(local);
    return Success;
}

void DetectCommand::start()
{
    for (const ScannedImage &image : std::as_const(m_images))
        m_pending.insert(image.absolutePath, image);
    m_loop.setReady(true);
    // Photos first; frames join as the queue runs short.
    m_loop.enqueue(m_images);
    openNextVideo();
    finishIfDone();
}

SavePlan DetectCommand::planSave(const ScannedImage &image) const
{
    SavePlan plan;
    plan.write = [writer = &m_writer, image](const ClientResult &result) {
        SavePlan::Written out;
        if (writer->write(image, result, &out.error)) {
            out.imagePath = result.jpeg.isEmpty() ? QString() : writer->imageOutputPath(image);
            out.sidecarPath = writer->writeJson() ? writer->jsonOutputPath(image) : QString();
        }
        return out;
    };
    return plan;
}

void DetectCommand::itemFinished(const QString &path, const ItemOutcome &outcome)
{
    const ScannedImage image = m_pending.take(path);
    if (!outcome.ok()) {
        reportFailure(image, outcome.error);
        return;
    }
    ++m_done;
    const ClientResult &result = outcome.result;
    // Frames keep their boxes until the end, when a video's boxes are linked into tracks.
    if (!image.origin.isPhoto() && result.hasDetectionData)
        m_frameResults.append(ExportItem{image.absolutePath, result.result.imageWidth, result.result.imageHeight,
                                         result.result.detections, image.origin});
    if (m_args.quiet)
        return;
    const QString what = result.hasDetectionData
        ? (result.result.detections.isEmpty() ? QStringLiteral("nothing found")
                                              : summarizeLabels(result.result.detections, 4))
        : QStringLiteral("image only (legacy server)");
    cli::printErr(QStringLiteral("[%1/%2] %3: %4 (%5 ms)")
                      .arg(m_done + m_failed - m_failedBeforeStart)
                      .arg(std::max<qint64>(m_expected, m_images.size() + m_framesQueued))
                      .arg(image.relativePath, what)
                      .arg(result.roundTripMs, 0, 'f', 0));
}

void DetectCommand::probeVideos(const QList<ScannedImage> &videos)
{
    m_expected = m_images.size();
    for (const ScannedImage &video : videos) {
        SourceProperties properties;
        QString error;
        if (!VideoFileSource::probe(video.absolutePath, &properties, &error)) {
            reportFailure(video, error);
            continue;
        }
        const qint64 estimate = m_args.frames.rule.estimatedCount(properties);
        m_videos.append(video);
        if (estimate > 0)
            m_expected += estimate;
        if (!m_args.quiet) {
            cli::printErr(QStringLiteral("%1: %2x%3, %4 fps, %5 frame(s); %6 -> %7")
                              .arg(video.relativePath)
                              .arg(properties.size.width())
                              .arg(properties.size.height())
                              .arg(properties.fps, 0, 'f', 2)
                              .arg(properties.frameCount)
                              .arg(m_args.frames.rule.describe(),
                                   estimate >= 0 ? QStringLiteral("%1 frame(s)").arg(estimate)
                                                 : QStringLiteral("as many frames as there are scenes")));
        }
    }
}

bool DetectCommand::openNextVideo()
{
    while (m_nextVideo < m_videos.size()) {
        const ScannedImage video = m_videos.at(m_nextVideo++);
        FrameExtractor::Options options = m_args.frames;
        options.framesDir = FrameExtractor::framesDirFor(m_args.outputDir, video);
        auto *feed = new VideoFeed(video, options);
        QString error;
        if (!feed->open(&error)) {
            delete feed;
            reportFailure(video, error);
            continue;
        }
        // The output folder is EdgeLens's before the first frame lands in it: later scans skip it.
        if (!ResultWriter::markOutputFolder(m_args.outputDir, &error))
            cli::printErr(QStringLiteral("edgelens-cli: ") + error);
        connect(feed, &VideoFeed::variableFrameRateFound, this, [this, feed] {
            if (!m_args.quiet)
                cli::printErr(QStringLiteral("note: %1 has a variable frame rate; every frame keeps the decoder's "
                                             "timestamp (frame index / fps would be wrong)")
                                  .arg(feed->video().relativePath));
        });
        m_loop.addFeed(feed);
        feed->start();
        return true;
    }
    return false;
}

void DetectCommand::writeTracks()
{
    if (m_frameResults.isEmpty())
        return;
    const QString dir = QDir(m_args.outputDir).filePath(QStringLiteral("tracks"));
    QString error;
    const int sequences = exportMot(m_frameResults, {}, dir, &error);
    m_frameResults.clear();
    if (sequences < 0) {
        cli::printErr(QStringLiteral("edgelens-cli: tracks not written: ") + error);
        ++m_failed;
    } else if (!m_args.quiet) {
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
    if (m_finished || m_loop.isBusy() || m_nextVideo < m_videos.size())
        return;
    m_finished = true;
    writeTracks();
    const double seconds = std::max(1e-6, double(m_clock.nsecsElapsed()) / 1e9);
    const qint64 total = m_images.size() + m_framesQueued + m_failedBeforeStart;
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

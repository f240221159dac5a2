#include "processingqueue.h"

#include "client/clientresult.h"
#include "client/detectionclient.h"
#include "gallerymodel.h"
#include "inputs/videofeed.h"
#include "inputs/videofilesource.h"
#include "results/annotation.h"
#include "results/resultwriter.h"
#include "thumbnailcache.h"

#include <QDir>
#include <QFileInfo>
#include <QLoggingCategory>
#include <QStandardPaths>

Q_LOGGING_CATEGORY(lcQueue, "edgelens.app.queue")

namespace edgelens {

namespace {

// What the saved JPEG shows: the boxes the sidecar's "detections" list (cut at the app's
// threshold), coloured as a redraw after corrections colours them, so nothing needs redrawing.
QList<Detection> boxesToDraw(const DetectionResult &result, const ThresholdPolicy &policy)
{
    QList<Detection> boxes = Annotation::fromModel(result, policy.thresholdFor(result.model)).accepted();
    for (Detection &d : boxes)
        d.classId = Annotation::colorId(d);
    return boxes;
}

} // namespace

ProcessingQueue::ProcessingQueue(GalleryModel *model, DetectionClient *client, QObject *parent)
    : QObject(parent)
    , m_model(model)
    , m_client(client)
    , m_loop(client)
{
    syncSettings();
    m_loop.setSavePlanner([this](const ScannedImage &image, const ClientResult &result) {
        return planSave(image, result);
    });
    m_loop.setStillWanted([this](const QString &path) { return m_model->rowOfPath(path) >= 0; });
    m_loop.setFrameAdmission([this](ScannedImage &frame) { return admitFrame(frame); });
    connect(&m_loop, &ProcessingLoop::itemQueued, this,
            [this](const QString &path) { setItemStatus(path, GalleryItem::Status::Queued); });
    connect(&m_loop, &ProcessingLoop::itemStarted, this, [this](const QString &path) {
        setItemStatus(path, GalleryItem::Status::Sending);
        m_model->incrementAttempts(m_model->rowOfPath(path));
    });
    connect(&m_loop, &ProcessingLoop::itemSubmitted, this,
            [this](const QString &path) { setItemStatus(path, GalleryItem::Status::Processing); });
    connect(&m_loop, &ProcessingLoop::itemFinished, this, &ProcessingQueue::itemFinishedInLoop);
    connect(&m_loop, &ProcessingLoop::originalThumbnail, this,
            [this](const QString &path, const QImage &thumbnail, const QSize &box) {
                if (m_thumbnails)
                    m_thumbnails->provide(path, thumbnail, box);
            });
    connect(&m_loop, &ProcessingLoop::frameQueued, this, [this](VideoFeed *feed, const ScannedImage &frame) {
        if (const auto it = m_videos.find(feed->video().absolutePath); it != m_videos.end())
            it->resumeAfterIndex = qMax(it->resumeAfterIndex, frame.origin.frameIndex);
        emit videoFrameAdded(feed->video().absolutePath, frame.absolutePath);
    });
    connect(&m_loop, &ProcessingLoop::feedFinished, this, [this](VideoFeed *feed, const QString &error) {
        m_videos.remove(feed->video().absolutePath);
        emit videoFinished(feed->video().absolutePath, feed->framesKept(), error);
    });
    connect(&m_loop, &ProcessingLoop::outageChanged, this, &ProcessingQueue::outageChanged);
    connect(&m_loop, &ProcessingLoop::openChanged, this, &ProcessingQueue::thumbnailsMayBeNeeded);
    connect(&m_loop, &ProcessingLoop::progressChanged, this, &ProcessingQueue::progressChanged);
    connect(&m_loop, &ProcessingLoop::idle, this, &ProcessingQueue::idle);
}

ProcessingQueue::~ProcessingQueue()
{
    setThumbnailCache(nullptr); // the cache may outlive this queue
    m_loop.disconnect(this);
}

void ProcessingQueue::syncSettings()
{
    ProcessingLoop::Settings settings;
    // One read ahead per slot so the socket never waits for the disk.
    settings.window = m_maxInFlight * 2;
    settings.sendOriginalFiles = m_transfer.sendOriginalFiles;
    settings.resultMaxSide = m_transfer.resultMaxSide;
    if (m_thumbnails)
        settings.thumbnailBox = m_thumbnails->thumbnailSize();
    m_loop.setSettings(settings);
}

void ProcessingQueue::setDetectOptions(const DetectOptions &options)
{
    m_loop.setDetectOptions(options);
}

void ProcessingQueue::setOutputOptions(const OutputOptions &options)
{
    m_output = options;
}

void ProcessingQueue::setTransferSettings(const TransferSettings &settings)
{
    m_transfer = settings;
    syncSettings();
}

void ProcessingQueue::setMaxInFlight(int count)
{
    m_maxInFlight = qBound(1, count, 64);
    m_client->setMaxInFlight(m_maxInFlight);
    syncSettings();
}

void ProcessingQueue::setTargetReady(bool ready)
{
    m_loop.setReady(ready);
}

void ProcessingQueue::enqueue(const QStringList &canonicalPaths)
{
    syncSettings(); // the thumbnail size may have changed
    QList<ScannedImage> items;
    for (const QString &path : canonicalPaths) {
        const int row = m_model->rowOfPath(path);
        if (row < 0)
            continue;
        items.append(ScannedImage{path, QFileInfo(path).fileName(), m_model->item(row).origin});
    }
    m_loop.enqueue(items);
}

void ProcessingQueue::setThumbnailCache(ThumbnailCache *cache)
{
    if (m_thumbnails)
        m_thumbnails->setProvider(nullptr);
    m_thumbnails = cache;
    if (m_thumbnails)
        m_thumbnails->setProvider([this](const QString &path) { return willProvideThumbnail(path); });
    syncSettings();
}

bool ProcessingQueue::willProvideThumbnail(const QString &path) const
{
    if (!m_thumbnails || m_loop.isPaused() || !m_loop.isReady()
        || m_loop.serverKind() == ProcessingLoop::ServerKind::Legacy)
        return false;
    if (m_loop.isReading(path))
        return true;
    // The next ones to be read (about one round of open slots); further back the wait for
    // the queue would be longer than a decode of their own.
    return m_loop.isQueuedWithin(path, m_maxInFlight * 2);
}

void ProcessingQueue::thumbnailsMayBeNeeded()
{
    if (m_thumbnails)
        m_thumbnails->providerChanged();
}

void ProcessingQueue::pause()
{
    m_loop.pause();
}

void ProcessingQueue::resume()
{
    syncSettings();
    m_loop.resume();
}

int ProcessingQueue::cancel()
{
    return m_loop.cancel();
}

int ProcessingQueue::retryFailed()
{
    QStringList again;
    const QList<GalleryItem> &items = m_model->items();
    for (const GalleryItem &it : items) {
        if (it.status == GalleryItem::Status::Failed || it.status == GalleryItem::Status::Cancelled)
            again.append(it.path);
    }
    enqueue(again);
    return int(again.size());
}

int ProcessingQueue::failQueued(const QString &reason)
{
    return m_loop.failQueued(reason);
}

int ProcessingQueue::requeueInFlight()
{
    return m_loop.requeueOpen();
}

bool ProcessingQueue::isBusy() const
{
    return m_loop.isBusy();
}

qint64 ProcessingQueue::estimateFrames(const QString &videoPath, const SamplingRule &rule, QString *error)
{
    SourceProperties properties;
    if (!VideoFileSource::probe(videoPath, &properties, error))
        return -1;
    return rule.estimatedCount(properties);
}

bool ProcessingQueue::enqueueVideo(const QString &videoPath, const SamplingRule &rule, QString *error,
                                   qint64 resumeAfterIndex)
{
    syncSettings();
    const QFileInfo info(videoPath);
    const ScannedImage video{QDir::cleanPath(info.absoluteFilePath()), info.fileName(), {}};
    FrameExtractor::Options options;
    options.rule = rule;
    options.resumeAfterIndex = resumeAfterIndex;
    const QString outputDir = outputDirectoryFor(video.absolutePath);
    options.framesDir = FrameExtractor::framesDirFor(outputDir, video);
    auto *feed = new VideoFeed(video, options, this);
    if (!feed->open(error)) {
        delete feed;
        return false;
    }
    QString markError;
    // The output folder is EdgeLens's before the first frame lands in it: later scans skip it.
    if (!ResultWriter::markOutputFolder(outputDir, &markError))
        qCWarning(lcQueue).noquote() << markError;
    connect(feed, &VideoFeed::variableFrameRateFound, this,
            [this, path = video.absolutePath] { emit videoVariableFrameRate(path); });
    m_videos.insert(video.absolutePath, VideoSampling{video.absolutePath, rule, resumeAfterIndex, info.size(),
                                                      info.lastModified().toMSecsSinceEpoch()});
    m_loop.addFeed(feed);
    emit videoStarted(video.absolutePath, feed->estimatedCount());
    feed->start();
    return true;
}

VideoSamplings ProcessingQueue::videosInProgress() const
{
    return m_videos.values();
}

bool ProcessingQueue::admitFrame(ScannedImage &frame)
{
    const QFileInfo file(frame.absolutePath);
    const QString canonical = file.canonicalFilePath();
    if (canonical.isEmpty())
        return false; // removed meanwhile: nothing to send
    GalleryModel::NewImage image;
    image.path = canonical;
    image.size = file.size();
    image.modified = file.lastModified();
    image.origin = frame.origin;
    // The gallery keeps a video's frames together, in source order.
    image.group = frame.origin.source;
    image.groupOrder = frame.origin.frameIndex;
    frame.absolutePath = canonical;
    // As with photos dropped twice: a frame the gallery already has (the video sampled again,
    // perhaps by another rule) keeps its state and is not sent again.
    return !m_model->addImages({image}).isEmpty();
}

QString ProcessingQueue::outputDirectoryFor(const QString &imagePath) const
{
    if (!m_output.directory.isEmpty())
        return m_output.directory;
    const QFileInfo image(imagePath);
    const QFileInfo folder(image.absolutePath());
    if (folder.isWritable())
        return QDir(folder.absoluteFilePath()).filePath(QStringLiteral("inferenced"));
    // Read-only sources (a camera card, a shared drive) still get their results somewhere.
    QString pictures = QStandardPaths::writableLocation(QStandardPaths::PicturesLocation);
    if (pictures.isEmpty())
        pictures = QDir::homePath();
    return QDir(pictures).filePath(QStringLiteral("EdgeLens/inferenced"));
}

SavePlan ProcessingQueue::planSave(const ScannedImage &image, const ClientResult &result)
{
    Q_UNUSED(result)
    const QString path = image.absolutePath;
    const int originRow = m_model->rowOfPath(path);
    const ImageOrigin origin = originRow >= 0 ? m_model->item(originRow).origin : image.origin;
    // A frame's results go where its video's would: beside the frames folder, not inside it.
    const ResultSaver::Plan plan = m_saver.plan(path, outputDirectoryFor(origin.anchorPath(path)), m_output.jsonSidecars,
                                                origin);
    SavePlan out;
    // ResultWriter knows only the inputs it was planned with; the gallery knows them all.
    for (const QString &file : {plan.imagePath, plan.sidecarPath}) {
        const QString canonical = QFileInfo(file).canonicalFilePath();
        if (!canonical.isEmpty() && m_model->rowOfPath(canonical) >= 0) {
            out.refusal = tr("result not saved: %1 is an input image; choose another output folder").arg(file);
            return out;
        }
    }
    out.boxesToDraw = [policy = plan.policy](const DetectionResult &r) { return boxesToDraw(r, policy); };
    out.write = [plan](const ClientResult &r) {
        const ResultSaver::Outcome saved = ResultSaver::save(plan, r);
        return SavePlan::Written{saved.imagePath, saved.sidecarPath, saved.error};
    };
    return out;
}

void ProcessingQueue::itemFinishedInLoop(const QString &path, const ItemOutcome &outcome)
{
    const int row = m_model->rowOfPath(path);
    if (outcome.kind == ItemOutcome::Kind::Cancelled) {
        setItemStatus(path, GalleryItem::Status::Cancelled, tr("cancelled"));
        return;
    }
    if (outcome.answered && row >= 0) {
        m_model->setResult(row, outcome.result.result, outcome.result.hasDetectionData, outcome.imagePath,
                           outcome.sidecarPath, outcome.refused ? QString() : outcome.result.device,
                           outcome.drawnHere && outcome.ok());
    }
    if (outcome.ok()) {
        emit itemFinished(path, true);
        // After itemFinished: the gallery drops its thumbnail of the old result file when an
        // item finishes; this one is of the new file.
        if (m_thumbnails && !outcome.resultThumbnail.isNull() && !outcome.imagePath.isEmpty())
            m_thumbnails->provide(outcome.imagePath, outcome.resultThumbnail, m_loop.settings().thumbnailBox);
        return;
    }
    QString error = outcome.error;
    if (outcome.answered && !outcome.refused) {
        // The answer is shown either way; the user must still learn it is not on disk.
        emit outputError(tr("%1: result not saved: %2").arg(QFileInfo(path).fileName(), outcome.error));
        error = tr("result not saved: %1").arg(outcome.error);
    }
    setItemStatus(path, GalleryItem::Status::Failed, error);
    emit itemFinished(path, false);
}

void ProcessingQueue::setItemStatus(const QString &path, GalleryItem::Status status, const QString &error)
{
    const int row = m_model->rowOfPath(path);
    if (row >= 0)
        m_model->setStatus(row, status, error);
}

} // namespace edgelens

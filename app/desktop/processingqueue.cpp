#include "processingqueue.h"

#include "results/annotation.h"
#include "client/clientresult.h"
#include "client/detectionclient.h"
#include "gallerymodel.h"
#include "imaging/imagefilereader.h"
#include "inputs/videofeed.h"
#include "inputs/videofilesource.h"
#include "results/resultwriter.h"
#include "resultsaver.h"
#include "thumbnailcache.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QJsonArray>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QStandardPaths>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>
#include <utility>

Q_LOGGING_CATEGORY(lcQueue, "edgelens.app.queue")

namespace edgelens {

namespace {

constexpr int kMaxOutageRequeues = 4;

struct ReadOutcome
{
    PreparedImage prepared;
    QString error;
};

// Worker thread: the file, reduced for the model when the server said what it needs.
ReadOutcome readAndPrepare(const QString &path, const TransferOptions &transfer)
{
    ReadOutcome out;
    out.prepared = ImageTransfer::readAndPrepare(path, transfer);
    out.error = out.prepared.error;
    return out;
}

struct SaveOutcome
{
    ResultSaver::Outcome saved;
    ClientResult result;
    QImage thumbnail; // the result's, when drawn here on the kept canvas
    bool drawnHere = false;
};

// What the saved JPEG shows: the boxes the sidecar's "detections" list (cut at the app's
// threshold), coloured as a redraw after corrections colours them, so nothing needs redrawing.
QList<Detection> boxesToDraw(const DetectionResult &result, const ThresholdPolicy &policy)
{
    QList<Detection> boxes = Annotation::fromModel(result, policy.thresholdFor(result.model)).accepted();
    for (Detection &d : boxes)
        d.classId = Annotation::colorId(d);
    return boxes;
}

// Worker thread: boxes back to the original's pixels, the markup drawn here (on the image
// decoded when the request was prepared, else on a new decode of the file), the files written.
SaveOutcome completeAndSave(const ResultSaver::Plan &plan, ClientResult result, PreparedImage prepared,
                            bool drawLocally, int maxSide, const QString &note, int jpegQuality, const QSize &thumbnailBox)
{
    SaveOutcome out;
    ImageTransfer::mapToOriginal(result.result, prepared);
    if (drawLocally) {
        const QList<Detection> boxes = boxesToDraw(result.result, plan.policy);
        QString error;
        if (!prepared.canvas.empty()) {
            result.jpeg = ImageTransfer::renderMarkupOn(prepared.canvas, prepared.originalSize, boxes, jpegQuality, note,
                                                        &error);
            if (!result.jpeg.isEmpty() && !thumbnailBox.isEmpty())
                out.thumbnail = ImageTransfer::thumbnail(prepared.canvas, thumbnailBox);
            prepared.canvas.release();
        } else {
            const ImageFileReader::Result file = ImageFileReader::read(plan.image.absolutePath);
            if (!file.ok())
                error = file.error;
            else
                result.jpeg = ImageTransfer::renderMarkup(file.bytes, boxes, maxSide, jpegQuality, note, &error);
        }
        if (result.jpeg.isEmpty()) {
            out.saved.error = error;
            out.result = std::move(result);
            return out;
        }
    }
    out.saved = ResultSaver::save(plan, result);
    out.drawnHere = drawLocally;
    out.result = std::move(result);
    return out;
}

} // namespace

ProcessingQueue::ProcessingQueue(GalleryModel *model, DetectionClient *client, QObject *parent)
    : QObject(parent)
    , m_model(model)
    , m_client(client)
{
    m_clock.start();
    connect(m_client, &DetectionClient::resultReady, this, &ProcessingQueue::handleResult);
    connect(m_client, &DetectionClient::requestFailed, this, &ProcessingQueue::handleFailure);
    connect(m_client, &DetectionClient::serverInfoReceived, this,
            [this](quint64 id, const QJsonObject &info, double, const QString &device) {
                handleServerInfo(id, info, device);
            });
    m_holdTimer = new QTimer(this);
    m_holdTimer->setSingleShot(true);
    connect(m_holdTimer, &QTimer::timeout, this, &ProcessingQueue::pump);
}

ProcessingQueue::~ProcessingQueue()
{
    setThumbnailCache(nullptr); // the cache may outlive this queue
}

void ProcessingQueue::setDetectOptions(const DetectOptions &options)
{
    m_options = options;
}

void ProcessingQueue::setOutputOptions(const OutputOptions &options)
{
    m_output = options;
}

void ProcessingQueue::setMaxInFlight(int count)
{
    m_maxInFlight = qBound(1, count, 64);
    m_client->setMaxInFlight(m_maxInFlight);
    pump();
}

void ProcessingQueue::setTargetReady(bool ready)
{
    m_targetReady = ready;
    thumbnailsMayBeNeeded();
    // Whoever is there now may serve another model, or speak only the legacy protocol.
    m_serverKind = ServerKind::Unknown;
    m_served.forgetRequests();
    if (ready)
        pump();
}

void ProcessingQueue::enqueue(const QStringList &canonicalPaths)
{
    if (!isBusy()) {
        m_batchTotal = 0;
        m_batchFinished = 0;
        m_finishTimes.clear();
    }
    for (const QString &path : canonicalPaths) {
        const int row = m_model->rowOfPath(path);
        if (row < 0 || m_open.contains(path))
            continue;
        m_model->setStatus(row, GalleryItem::Status::Queued);
        m_queue.push_back(path);
        ++m_batchTotal;
        m_idleAnnounced = false;
    }
    emit progressChanged();
    pump();
}

void ProcessingQueue::setThumbnailCache(ThumbnailCache *cache)
{
    if (m_thumbnails)
        m_thumbnails->setProvider(nullptr);
    m_thumbnails = cache;
    if (m_thumbnails)
        m_thumbnails->setProvider([this](const QString &path) { return willProvideThumbnail(path); });
}

bool ProcessingQueue::willProvideThumbnail(const QString &path) const
{
    if (!m_thumbnails || m_paused || !m_targetReady || m_serverKind == ServerKind::Legacy)
        return false;
    const auto open = m_open.constFind(path);
    if (open != m_open.cend())
        return open->reading;
    // The next ones to be read (about one round of open slots); further back the wait for
    // the queue would be longer than a decode of their own.
    const auto end = m_queue.begin() + qMin<qsizetype>(qsizetype(m_queue.size()), qsizetype(m_maxInFlight) * 2);
    return std::find(m_queue.begin(), end, path) != end;
}

void ProcessingQueue::thumbnailsMayBeNeeded()
{
    if (m_thumbnails)
        m_thumbnails->providerChanged();
}

void ProcessingQueue::pause()
{
    m_paused = true;
    thumbnailsMayBeNeeded();
    emit progressChanged();
}

void ProcessingQueue::resume()
{
    m_paused = false;
    emit progressChanged();
    pump();
}

int ProcessingQueue::cancel()
{
    int cancelled = 0;
    // Videos stop being sampled; the frames already extracted stay on disk.
    for (VideoFeed *feed : std::exchange(m_feeds, {})) {
        feed->cancel();
        emit videoFinished(feed->video().absolutePath, feed->framesKept(), tr("cancelled"));
        feed->deleteLater();
    }
    for (auto it = m_open.cbegin(); it != m_open.cend(); ++it) {
        if (it->requestId)
            m_client->cancel(it->requestId);
        setItemStatus(it.key(), GalleryItem::Status::Cancelled, tr("cancelled"));
        ++cancelled;
    }
    m_open.clear();
    m_pathOfRequest.clear();
    for (const QString &path : m_queue) {
        setItemStatus(path, GalleryItem::Status::Cancelled, tr("cancelled"));
        ++cancelled;
    }
    m_queue.clear();
    thumbnailsMayBeNeeded();
    m_batchTotal = m_batchFinished;
    if (m_outageClock.isValid()) {
        m_outageClock.invalidate();
        m_holdTimer->stop();
        emit outageChanged(false, QString());
    }
    emit progressChanged();
    checkIdle();
    return cancelled;
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
    const std::deque<QString> queued = std::exchange(m_queue, {});
    thumbnailsMayBeNeeded();
    for (const QString &path : queued) {
        setItemStatus(path, GalleryItem::Status::Failed, reason);
        ++m_batchFinished;
        emit itemFinished(path, false);
    }
    emit progressChanged();
    checkIdle();
    return int(queued.size());
}

int ProcessingQueue::requeueInFlight()
{
    QStringList back;
    for (auto it = m_open.begin(); it != m_open.end();) {
        if (it->saving) {
            ++it;
            continue;
        }
        if (it->requestId) {
            m_client->cancel(it->requestId);
            m_pathOfRequest.remove(it->requestId);
        }
        back.append(it.key());
        it = m_open.erase(it); // a read still running is ignored when it finishes (no entry)
    }
    // In gallery order, ahead of everything that was waiting.
    std::sort(back.begin(), back.end(), [this](const QString &a, const QString &b) {
        return m_model->rowOfPath(a) > m_model->rowOfPath(b);
    });
    for (const QString &path : std::as_const(back)) {
        m_queue.push_front(path);
        setItemStatus(path, GalleryItem::Status::Queued);
    }
    if (!back.isEmpty())
        m_idleAnnounced = false;
    emit progressChanged();
    pump();
    return int(back.size());
}

bool ProcessingQueue::isBusy() const
{
    return !m_queue.empty() || !m_open.isEmpty() || !m_feeds.empty();
}

qint64 ProcessingQueue::estimateFrames(const QString &videoPath, const SamplingRule &rule, QString *error)
{
    SourceProperties properties;
    if (!VideoFileSource::probe(videoPath, &properties, error))
        return -1;
    return rule.estimatedCount(properties);
}

bool ProcessingQueue::enqueueVideo(const QString &videoPath, const SamplingRule &rule, QString *error)
{
    if (!isBusy()) {
        m_batchTotal = 0;
        m_batchFinished = 0;
        m_finishTimes.clear();
    }
    const QFileInfo info(videoPath);
    const ScannedImage video{QDir::cleanPath(info.absoluteFilePath()), info.fileName(), {}};
    FrameExtractor::Options options;
    options.rule = rule;
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
    feed->setLookAhead(m_maxInFlight * 2);
    connect(feed, &VideoFeed::frameReady, this, &ProcessingQueue::pump);
    connect(feed, &VideoFeed::finished, this, [this] { QTimer::singleShot(0, this, &ProcessingQueue::pump); });
    connect(feed, &VideoFeed::variableFrameRateFound, this,
            [this, path = video.absolutePath] { emit videoVariableFrameRate(path); });
    m_feeds.push_back(feed);
    m_idleAnnounced = false;
    emit videoStarted(video.absolutePath, feed->estimatedCount());
    feed->start();
    return true;
}

void ProcessingQueue::pullFrames(int openLimit)
{
    for (auto it = m_feeds.begin(); it != m_feeds.end();) {
        VideoFeed *feed = *it;
        while (feed->hasFrame() && qsizetype(m_queue.size()) < openLimit) {
            const ScannedImage frame = feed->takeFrame();
            const QFileInfo file(frame.absolutePath);
            const QString canonical = file.canonicalFilePath();
            if (canonical.isEmpty())
                continue; // removed meanwhile: nothing to send
            GalleryModel::NewImage image;
            image.path = canonical;
            image.size = file.size();
            image.modified = file.lastModified();
            image.origin = frame.origin;
            // The gallery keeps a video's frames together, in source order.
            image.group = frame.origin.source;
            image.groupOrder = frame.origin.frameIndex;
            m_model->addImages({image});
            const int row = m_model->rowOfPath(canonical);
            if (row < 0 || m_open.contains(canonical))
                continue;
            m_model->setStatus(row, GalleryItem::Status::Queued);
            m_queue.push_back(canonical);
            ++m_batchTotal;
            emit videoFrameAdded(feed->video().absolutePath, canonical);
        }
        if (!feed->isDrained()) {
            ++it;
            continue;
        }
        emit videoFinished(feed->video().absolutePath, feed->framesKept(), feed->error());
        feed->deleteLater();
        it = m_feeds.erase(it);
    }
}

double ProcessingQueue::imagesPerSecond() const
{
    if (m_finishTimes.size() < 2)
        return 0;
    const qint64 span = m_finishTimes.last() - m_finishTimes.first();
    // A rate that stopped updating is not a rate: decay it when nothing finished lately.
    const qint64 sinceLast = m_clock.elapsed() - m_finishTimes.last();
    const qint64 window = qMax(span, span + sinceLast - (span / (m_finishTimes.size() - 1)));
    return window > 0 ? (m_finishTimes.size() - 1) * 1000.0 / window : 0;
}

qint64 ProcessingQueue::estimatedRemainingMs() const
{
    const double rate = imagesPerSecond();
    const int remaining = m_batchTotal - m_batchFinished;
    if (rate <= 0 || remaining <= 0)
        return remaining <= 0 ? 0 : -1;
    return qint64(remaining / rate * 1000.0);
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

void ProcessingQueue::askServer()
{
    // Every device is asked: each may serve another model (a legacy one cannot say).
    m_serverKind = ServerKind::Asking;
    m_served.ask(*m_client, m_options.model);
    infoSettled();
}

void ProcessingQueue::handleServerInfo(quint64 id, const QJsonObject &info, const QString &device)
{
    if (m_served.takeAnswer(id, info, device))
        infoSettled();
}

void ProcessingQueue::infoSettled()
{
    // The first description starts the work; photos go as they are until every device has
    // described its model, then reduced for the largest input among them.
    if (m_serverKind == ServerKind::Asking && (m_served.anyDescribed() || m_served.complete())) {
        m_serverKind = m_served.anyDescribed() ? ServerKind::V2 : ServerKind::Legacy;
        if (m_serverKind == ServerKind::Legacy)
            thumbnailsMayBeNeeded();
        pump();
    }
    if (m_served.complete())
        qCInfo(lcQueue) << "model input for reduced copies" << m_served.input();
}

void ProcessingQueue::pump()
{
    if (!m_targetReady || m_paused || m_holdTimer->isActive())
        return;
    // Keep one read ahead per slot (below) and about as many frames waiting behind them.
    pullFrames(m_maxInFlight * 2);
    if (m_serverKind == ServerKind::Unknown && !m_queue.empty())
        askServer();
    if (m_serverKind == ServerKind::Asking)
        return; // the answer (or its failure: a legacy server) resumes
    // Keep one read ahead per slot so the socket never waits for the disk.
    const int openLimit = m_maxInFlight * 2;
    bool skipped = false;
    while (!m_queue.empty() && m_open.size() < openLimit) {
        const QString path = m_queue.front();
        m_queue.pop_front();
        if (m_model->rowOfPath(path) < 0) {
            ++m_batchFinished; // removed from the gallery while it waited: nothing left to do
            skipped = true;
            continue;
        }
        startRead(path);
    }
    if (skipped) {
        emit progressChanged();
        checkIdle();
    }
}

void ProcessingQueue::startRead(const QString &path)
{
    const quint64 token = m_nextToken++;
    Open open;
    open.token = token;
    open.drawLocally = m_serverKind == ServerKind::V2;
    m_open.insert(path, open);
    setItemStatus(path, GalleryItem::Status::Sending);
    m_model->incrementAttempts(m_model->rowOfPath(path));
    TransferOptions transfer;
    transfer.sendOriginal = m_transfer.sendOriginalFiles || m_serverKind != ServerKind::V2;
    transfer.modelInput = m_served.input();
    transfer.jpegQuality = 90;
    // One decode for the model's copy, the result and the thumbnail: the result is drawn here.
    transfer.resultMaxSide = open.drawLocally ? m_transfer.resultMaxSide : -1;
    if (m_thumbnails)
        transfer.thumbnailBox = m_thumbnails->thumbnailSize();
    const QSize thumbnailBox = transfer.thumbnailBox;
    auto *watcher = new QFutureWatcher<ReadOutcome>(this);
    connect(watcher, &QFutureWatcher<ReadOutcome>::finished, this, [this, watcher, path, token, thumbnailBox] {
        watcher->deleteLater();
        ReadOutcome out = watcher->future().takeResult();
        readFinished(path, token, std::move(out.prepared), out.error, thumbnailBox);
    });
    watcher->setFuture(QtConcurrent::run(readAndPrepare, path, transfer));
}

void ProcessingQueue::readFinished(const QString &path, quint64 token, PreparedImage prepared, const QString &error,
                                   const QSize &thumbnailBox)
{
    auto it = m_open.find(path);
    if (it == m_open.end() || it->token != token)
        return; // cancelled meanwhile
    it->reading = false;
    if (m_thumbnails && !prepared.thumbnail.isNull())
        m_thumbnails->provide(path, std::exchange(prepared.thumbnail, QImage()), thumbnailBox);
    thumbnailsMayBeNeeded(); // none made here: the cache loads it itself
    if (!error.isEmpty()) {
        finish(path, false, error);
        return;
    }
    DetectOptions options = m_options;
    // Detections as data are enough: the marked-up image is drawn here, on the original.
    if (it->drawLocally)
        options.returnImage = false;
    it->requestId = m_client->submit(prepared.payload, options);
    prepared.payload.clear(); // the client holds its own copy until the answer
    it->prepared = std::move(prepared);
    m_pathOfRequest.insert(it->requestId, path);
    setItemStatus(path, GalleryItem::Status::Processing);
}

void ProcessingQueue::handleResult(quint64 id, const ClientResult &result)
{
    const QString path = m_pathOfRequest.take(id);
    if (path.isEmpty())
        return; // cancelled, or not ours
    auto it = m_open.find(path);
    if (it == m_open.end())
        return;
    m_lastRoundTripMs = result.roundTripMs;
    if (m_outageClock.isValid()) {
        m_outageClock.invalidate();
        m_holdTimer->stop();
        // server-info may have failed only because the target was away: ask again.
        if (m_serverKind == ServerKind::Legacy && m_client->activeProtocol() != DetectionClient::Protocol::Legacy)
            m_serverKind = ServerKind::Unknown;
        emit outageChanged(false, QString());
        pump();
    }
    it->requestId = 0;
    it->saving = true;
    const quint64 token = it->token;
    const int originRow = m_model->rowOfPath(path);
    const ImageOrigin origin = originRow >= 0 ? m_model->item(originRow).origin : ImageOrigin();
    // A frame's results go where its video's would: beside the frames folder, not inside it.
    const ResultSaver::Plan plan = m_saver.plan(path, outputDirectoryFor(origin.anchorPath(path)), m_output.jsonSidecars,
                                                origin);
    // ResultWriter knows only the inputs it was planned with; the gallery knows them all.
    for (const QString &out : {plan.imagePath, plan.sidecarPath}) {
        const QString canonical = QFileInfo(out).canonicalFilePath();
        if (!canonical.isEmpty() && m_model->rowOfPath(canonical) >= 0) {
            const int row = m_model->rowOfPath(path);
            if (row >= 0)
                m_model->setResult(row, result.result, result.hasDetectionData, QString(), QString());
            finish(path, false, tr("result not saved: %1 is an input image; choose another output folder").arg(out));
            return;
        }
    }
    // A v2 answer without an image is drawn here; a legacy one (image only) is saved as it came.
    const bool drawLocally = it->drawLocally && result.hasDetectionData && result.jpeg.isEmpty();
    // Moved: the canvas it holds is drawn on, then released with the save.
    PreparedImage prepared = std::exchange(it->prepared, PreparedImage());
    const int maxSide = m_transfer.resultMaxSide;
    const QSize thumbnailBox = m_thumbnails ? m_thumbnails->thumbnailSize() : QSize();
    const QString note = m_served.markupNote(result.device);
    const int quality = m_options.jpegQuality;
    auto *watcher = new QFutureWatcher<SaveOutcome>(this);
    connect(watcher, &QFutureWatcher<SaveOutcome>::finished, this, [this, watcher, path, token, thumbnailBox] {
        watcher->deleteLater();
        const SaveOutcome out = watcher->future().takeResult();
        saveFinished(path, token, out.result, out.saved.imagePath, out.saved.sidecarPath, out.saved.error,
                     out.drawnHere);
        // After finish(): the gallery drops its thumbnail of the old result file when an item
        // finishes; this one is of the new file.
        if (m_thumbnails && !out.thumbnail.isNull() && !out.saved.imagePath.isEmpty())
            m_thumbnails->provide(out.saved.imagePath, out.thumbnail, thumbnailBox);
    });
    watcher->setFuture(QtConcurrent::run(completeAndSave, plan, result, std::move(prepared), drawLocally, maxSide, note,
                                         quality, thumbnailBox));
}

void ProcessingQueue::handleFailure(quint64 id, const QString &reason, bool retryable)
{
    if (const std::optional<QString> device = m_served.takeFailure(id)) {
        // Legacy servers do not describe themselves: files go as they are, as ever.
        qCInfo(lcQueue).noquote() << "no server-info from" << *device << "(" << reason << "): sending files as they are";
        infoSettled();
        return;
    }
    const QString path = m_pathOfRequest.take(id);
    if (path.isEmpty())
        return;
    // Only a failure without a working connection is an outage. A timeout or a server error
    // on a live connection fails the image: the server may still be working on it, and a
    // second copy would be processed twice.
    const int row = m_model->rowOfPath(path);
    // An image that keeps failing while others get through is the problem, not the link.
    const bool tooManyTries = row >= 0 && m_model->item(row).attempts >= kMaxOutageRequeues;
    const bool connectionLost = retryable && !tooManyTries
        && m_client->connectionState() != DetectionClient::ConnectionState::Connected;
    if (connectionLost) {
        if (!m_outageClock.isValid()) {
            m_outageClock.start();
            m_holdMs = 1000;
            qCInfo(lcQueue) << "target lost:" << reason;
        } else {
            m_holdMs = qMin(m_holdMs * 2, 8000);
        }
        if (m_outageClock.elapsed() < m_outageLimitMs) {
            m_open.remove(path);
            m_queue.push_front(path);
            setItemStatus(path, GalleryItem::Status::Queued);
            m_holdTimer->start(qMin<qint64>(m_holdMs, qMax<qint64>(0, m_outageLimitMs - m_outageClock.elapsed())));
            emit outageChanged(true, reason);
            emit progressChanged();
            return;
        }
        const QString why = tr("%1 (nothing got through for %2 s)").arg(reason).arg(m_outageClock.elapsed() / 1000);
        finish(path, false, why);
        failQueued(why);
        return;
    }
    finish(path, false, reason);
}

bool ProcessingQueue::isHolding() const
{
    return m_holdTimer->isActive();
}

void ProcessingQueue::saveFinished(const QString &path, quint64 token, const ClientResult &result,
                                   const QString &imagePath, const QString &sidecarPath, const QString &error,
                                   bool drawnHere)
{
    auto it = m_open.find(path);
    if (it == m_open.end() || it->token != token)
        return;
    const int row = m_model->rowOfPath(path);
    if (row >= 0)
        m_model->setResult(row, result.result, result.hasDetectionData, imagePath, sidecarPath, result.device,
                           drawnHere && error.isEmpty());
    if (!error.isEmpty()) {
        // The answer is shown either way; the user must still learn it is not on disk.
        emit outputError(tr("%1: result not saved: %2").arg(QFileInfo(path).fileName(), error));
        finish(path, false, tr("result not saved: %1").arg(error));
        return;
    }
    finish(path, true);
}

void ProcessingQueue::finish(const QString &path, bool ok, const QString &error)
{
    m_open.remove(path);
    thumbnailsMayBeNeeded();
    if (!ok)
        setItemStatus(path, GalleryItem::Status::Failed, error);
    ++m_batchFinished;
    m_finishTimes.append(m_clock.elapsed());
    // The rate is about "now": keep the last ten seconds, at least a few samples.
    while (m_finishTimes.size() > 4 && m_finishTimes.last() - m_finishTimes.first() > 10000)
        m_finishTimes.removeFirst();
    if (m_finishTimes.size() > 200)
        m_finishTimes.removeFirst();
    emit itemFinished(path, ok);
    emit progressChanged();
    pump();
    checkIdle();
}

void ProcessingQueue::setItemStatus(const QString &path, GalleryItem::Status status, const QString &error)
{
    const int row = m_model->rowOfPath(path);
    if (row >= 0)
        m_model->setStatus(row, status, error);
}

void ProcessingQueue::checkIdle()
{
    // Once per busy -> idle transition, however many paths lead there.
    if (isBusy()) {
        m_idleAnnounced = false;
        return;
    }
    if (!m_idleAnnounced) {
        m_idleAnnounced = true;
        emit idle();
    }
}

} // namespace edgelens

#include "processingloop.h"

#include "client/detectionclient.h"
#include "imaging/imagefilereader.h"
#include "inputs/videofeed.h"

#include <QCoreApplication>
#include <QFutureWatcher>
#include <QLoggingCategory>
#include <QtConcurrent/QtConcurrentRun>
#include <QtConcurrent/qtconcurrenttask.h>

#include <algorithm>
#include <utility>

Q_LOGGING_CATEGORY(lcLoop, "edgelens.processing.loop", QtInfoMsg)

namespace edgelens {

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("ProcessingLoop", text);
}

struct Finishing
{
    SavePlan plan;
    PreparedImage prepared; // its canvas is drawn on, then released with it
    bool drawLocally = false;
    int maxSide = 0;
    int jpegQuality = 90;
    QString note;
    QSize thumbnailBox;
};

// Worker thread: boxes back to the original's pixels, the markup drawn here (on the image
// decoded when the request was prepared, else on a new decode of the file), the files written.
ItemOutcome completeAndSave(const QString &path, ClientResult result, Finishing how)
{
    ItemOutcome out;
    out.answered = true;
    ImageTransfer::mapToOriginal(result.result, how.prepared);
    if (how.drawLocally) {
        const QList<Detection> boxes = how.plan.boxesToDraw ? how.plan.boxesToDraw(result.result)
                                                            : result.result.detections;
        QString error;
        if (!how.prepared.canvas.empty()) {
            result.jpeg = ImageTransfer::renderMarkupOn(how.prepared.canvas, how.prepared.originalSize, boxes,
                                                        how.jpegQuality, how.note, &error);
            if (!result.jpeg.isEmpty() && !how.thumbnailBox.isEmpty())
                out.resultThumbnail = ImageTransfer::thumbnail(how.prepared.canvas, how.thumbnailBox);
            how.prepared.canvas.release();
        } else {
            const ImageFileReader::Result file = ImageFileReader::read(path);
            if (!file.ok())
                error = file.error;
            else
                result.jpeg = ImageTransfer::renderMarkup(file.bytes, boxes, how.maxSide, how.jpegQuality, how.note,
                                                          &error);
        }
        if (result.jpeg.isEmpty()) {
            out.error = error.isEmpty() ? tr("the result could not be drawn") : error;
            out.result = std::move(result);
            return out;
        }
        out.drawnHere = true;
    }
    const SavePlan::Written written = how.plan.write(result);
    out.imagePath = written.imagePath;
    out.sidecarPath = written.sidecarPath;
    out.error = written.error;
    out.kind = written.error.isEmpty() ? ItemOutcome::Kind::Done : ItemOutcome::Kind::Failed;
    out.result = std::move(result);
    return out;
}

} // namespace

ProcessingLoop::ProcessingLoop(DetectionClient *client, QObject *parent)
    : QObject(parent)
    , m_client(client)
{
    qRegisterMetaType<ItemOutcome>();
    m_clock.start();
    m_resendTimer.setSingleShot(true);
    connect(&m_resendTimer, &QTimer::timeout, this, &ProcessingLoop::pump);
    connect(m_client, &DetectionClient::resultReady, this, &ProcessingLoop::handleResult);
    connect(m_client, &DetectionClient::requestFailed, this, &ProcessingLoop::handleFailure);
    connect(m_client, &DetectionClient::serverInfoReceived, this,
            [this](quint64 id, const QJsonObject &info, double, const QString &device) {
                handleServerInfo(id, info, device);
            });
    connect(m_client, &DetectionClient::requestRetrying, this, [this](quint64 id, int attempt, const QString &why) {
        const QString path = m_pathOfRequest.value(id);
        if (!path.isEmpty())
            Q_EMIT itemRetrying(path, attempt, why);
    });
}

ProcessingLoop::~ProcessingLoop()
{
    // Answers still on the way find nothing; work on the pool finds its watcher gone.
    for (VideoFeed *feed : std::exchange(m_feeds, {}))
        feed->cancel();
}

void ProcessingLoop::setSettings(const Settings &settings)
{
    m_settings = settings;
    m_settings.window = std::max(1, settings.window);

    pump();
}

void ProcessingLoop::setReady(bool ready)
{
    m_ready = ready;
    // Whoever is there now may serve another model, or speak only the legacy protocol.
    m_serverKind = ServerKind::Unknown;
    m_served.forgetRequests();
    m_describedAnnounced = false;
    if (ready && m_outage.forget()) // a new target has had no outage yet
        Q_EMIT outageChanged(false, QString());
    Q_EMIT openChanged();
    if (ready)
        pump();
}

void ProcessingLoop::enqueue(const QList<ScannedImage> &items)
{
    if (!isBusy()) {
        m_batchTotal = 0;
        m_batchFinished = 0;
        m_finishTimes.clear();
    }
    for (const ScannedImage &image : items) {
        if (contains(image.absolutePath))
            continue;
        Item item;
        item.image = image;
        push(std::move(item), false);
    }
    Q_EMIT progressChanged();
    pump();
}

void ProcessingLoop::push(Item item, bool front)
{
    const QString path = item.image.absolutePath;
    if (item.order == 0) {
        item.order = m_nextOrder++;
        ++m_batchTotal;
    }
    if (front)
        m_queue.push_front(std::move(item));
    else
        m_queue.push_back(std::move(item));
    m_idleAnnounced = false;
    Q_EMIT itemQueued(path);
}

void ProcessingLoop::addFeed(VideoFeed *feed)
{
    feed->setParent(this);
    // Extraction runs one frame at a time: two ahead keep it busy while the link works.
    feed->setLookAhead(kFramesWaiting);
    connect(feed, &VideoFeed::frameReady, this, &ProcessingLoop::pump);
    // Deferred: the feed is inside its own signal.
    connect(feed, &VideoFeed::finished, this, [this] { QTimer::singleShot(0, this, &ProcessingLoop::pump); });
    if (!isBusy()) {
        m_batchTotal = 0;
        m_batchFinished = 0;
        m_finishTimes.clear();
    }
    m_feeds.push_back(feed);
    m_idleAnnounced = false;
}

void ProcessingLoop::pullFrames()
{
    std::vector<VideoFeed *> drained;
    for (auto it = m_feeds.begin(); it != m_feeds.end();) {
        VideoFeed *feed = *it;
        while (feed->hasFrame() && qsizetype(m_queue.size()) < m_settings.window
               && framesWaiting() < kFramesWaiting) {
            cv::Mat pixels;
            ScannedImage frame = feed->takeFrame(&pixels);
            if (m_admitFrame && !m_admitFrame(frame))
                continue;
            if (contains(frame.absolutePath))
                continue;
            Item item;
            item.image = frame;
            item.pixels = std::move(pixels);
            push(std::move(item), false);
            Q_EMIT frameQueued(feed, frame);
        }
        if (!feed->isDrained()) {
            ++it;
            continue;
        }
        drained.push_back(feed);
        it = m_feeds.erase(it);
    }
    // After the walk: a handler may add the next feed.
    for (VideoFeed *feed : drained) {
        Q_EMIT feedFinished(feed, feed->error());
        feed->deleteLater();
    }
}

int ProcessingLoop::framesWaiting() const
{
    // Called only while the queue is shorter than the window.
    return int(std::count_if(m_queue.cbegin(), m_queue.cend(), [](const Item &i) { return !i.pixels.empty(); }));
}

void ProcessingLoop::pause()
{
    m_paused = true;
    Q_EMIT openChanged();
    Q_EMIT progressChanged();
}

void ProcessingLoop::resume()
{
    m_paused = false;
    Q_EMIT progressChanged();
    pump();
}

int ProcessingLoop::cancel()
{
    // Videos stop being sampled; the frames already extracted stay on disk.
    for (VideoFeed *feed : std::exchange(m_feeds, {})) {
        feed->cancel();
        Q_EMIT feedFinished(feed, tr("cancelled"));
        feed->deleteLater();
    }
    QStringList cancelled;
    for (auto it = m_open.cbegin(); it != m_open.cend(); ++it) {
        if (it->requestId)
            m_client->cancel(it->requestId);
        cancelled.append(it.key());
    }
    m_open.clear();
    m_pathOfRequest.clear();
    m_saving = 0;
    for (const Item &item : std::exchange(m_queue, {}))
        cancelled.append(item.image.absolutePath);
    m_resendTimer.stop();
    m_batchTotal = m_batchFinished;
    ItemOutcome outcome;
    outcome.kind = ItemOutcome::Kind::Cancelled;
    outcome.error = tr("cancelled");
    for (const QString &path : std::as_const(cancelled))
        Q_EMIT itemFinished(path, outcome);
    Q_EMIT openChanged();
    if (m_outage.reset())
        Q_EMIT outageChanged(false, QString());
    Q_EMIT progressChanged();
    checkIdle();
    return int(cancelled.size());
}

int ProcessingLoop::failQueued(const QString &reason)
{
    const std::deque<Item> queued = std::exchange(m_queue, {});
    Q_EMIT openChanged();
    ItemOutcome outcome;
    outcome.kind = ItemOutcome::Kind::Failed;
    outcome.error = reason;
    for (const Item &item : queued) {
        ++m_batchFinished;
        Q_EMIT itemFinished(item.image.absolutePath, outcome);
    }
    Q_EMIT progressChanged();
    checkIdle();
    return int(queued.size());
}

int ProcessingLoop::requeueOpen()
{
    std::vector<Item> back;
    for (auto it = m_open.begin(); it != m_open.end();) {
        if (it->saving) {
            ++it;
            continue;
        }
        if (it->requestId) {
            m_client->cancel(it->requestId);
            m_pathOfRequest.remove(it->requestId);
        }
        back.push_back(std::move(it->item));
        it = m_open.erase(it); // a read still running is ignored when it finishes (no entry)
    }
    // In their first order, ahead of everything that was waiting.
    std::sort(back.begin(), back.end(), [](const Item &a, const Item &b) { return a.order > b.order; });
    for (Item &item : back) {
        item.notBefore = 0;
        push(std::move(item), true);
    }
    Q_EMIT progressChanged();
    pump();
    return int(back.size());
}

bool ProcessingLoop::isBusy() const
{
    return !m_queue.empty() || !m_open.isEmpty() || !m_feeds.empty();
}

bool ProcessingLoop::contains(const QString &path) const
{
    if (m_open.contains(path))
        return true;
    return std::any_of(m_queue.cbegin(), m_queue.cend(), [&](const Item &i) { return i.image.absolutePath == path; });
}

bool ProcessingLoop::isReading(const QString &path) const
{
    const auto open = m_open.constFind(path);
    return open != m_open.cend() && open->reading;
}

bool ProcessingLoop::isQueuedWithin(const QString &path, int first) const
{
    const auto end = m_queue.cbegin() + std::min<qsizetype>(qsizetype(m_queue.size()), std::max(0, first));
    return std::any_of(m_queue.cbegin(), end, [&](const Item &i) { return i.image.absolutePath == path; });
}

double ProcessingLoop::itemsPerSecond() const
{
    if (m_finishTimes.size() < 2)
        return 0;
    const qint64 span = m_finishTimes.last() - m_finishTimes.first();
    // A rate that stopped updating is not a rate: decay it when nothing finished lately.
    const qint64 sinceLast = m_clock.elapsed() - m_finishTimes.last();
    const qint64 window = std::max(span, span + sinceLast - (span / (m_finishTimes.size() - 1)));
    return window > 0 ? (m_finishTimes.size() - 1) * 1000.0 / window : 0;
}

qint64 ProcessingLoop::estimatedRemainingMs() const
{
    const double rate = itemsPerSecond();
    const int remaining = m_batchTotal - m_batchFinished;
    if (rate <= 0 || remaining <= 0)
        return remaining <= 0 ? 0 : -1;
    return qint64(remaining / rate * 1000.0);
}

void ProcessingLoop::askServer()
{
    const QList<DeviceSpec> devices = m_client->devices();
    const bool allLegacy = !devices.isEmpty()
        && std::all_of(devices.cbegin(), devices.cend(), [](const DeviceSpec &device) {
               return device.protocol == DetectionClient::Protocol::Legacy;
           });
    if (allLegacy) {
        m_serverKind = ServerKind::Legacy;
        return;
    }
    // Every device is asked: each may serve another model (a legacy one cannot say).
    m_serverKind = ServerKind::Asking;
    m_served.ask(*m_client, m_options.model);
    infoSettled();
}

void ProcessingLoop::handleServerInfo(quint64 id, const QJsonObject &info, const QString &device)
{
    if (!m_served.takeAnswer(id, info, device))
        return;
    qCInfo(lcLoop).noquote() << device << "serves" << m_served.modelName(device);
    infoSettled();
}

void ProcessingLoop::infoSettled()
{
    // The first description starts the work; photos go as they are until every device has
    // described its model, then reduced for the largest input among them.
    if (m_serverKind == ServerKind::Asking && (m_served.anyDescribed() || m_served.complete())) {
        m_serverKind = m_served.anyDescribed() ? ServerKind::V2 : ServerKind::Legacy;
        if (m_serverKind == ServerKind::Legacy)
            Q_EMIT openChanged();
        pump();
    }
    if (m_served.complete() && !m_describedAnnounced) {
        m_describedAnnounced = true;
        qCInfo(lcLoop) << "model input for reduced copies" << m_served.input();
        Q_EMIT serversDescribed();
    }
}

int ProcessingLoop::active() const
{
    return int(m_open.size()) - m_saving;
}

void ProcessingLoop::pump()
{
    if (!m_ready || m_paused || m_resendTimer.isActive())
        return;
    pullFrames();
    if (m_serverKind == ServerKind::Unknown && !m_queue.empty())
        askServer();
    if (m_serverKind == ServerKind::Asking)
        return; // the answer (or its failure: a legacy server) resumes
    const int window = m_settings.window;
    bool skipped = false;
    bool started = false;
    // Results being drawn and written do not hold a slot of the link: reading goes on while
    // they finish (bounded by a second window, so memory stays flat).
    while (!m_queue.empty() && active() < window && m_open.size() < 2 * window) {
        const qint64 wait = m_queue.front().notBefore - m_clock.elapsed();
        if (wait > 0) {
            m_resendTimer.start(int(wait));
            break;
        }
        Item item = std::move(m_queue.front());
        m_queue.pop_front();
        if (m_stillWanted && !m_stillWanted(item.image.absolutePath)) {
            ++m_batchFinished; // it left while it waited: nothing left to do
            skipped = true;
            continue;
        }
        startRead(std::move(item));
        started = true;
    }
    if (started)
        Q_EMIT openChanged();
    if (skipped) {
        Q_EMIT progressChanged();
        checkIdle();
    }
    // Frames taken above may have left room for the feeds' next ones.
    if (started && !m_feeds.empty() && qsizetype(m_queue.size()) < window)
        pullFrames();
    checkIdle();
}

void ProcessingLoop::startRead(Item item)
{
    const QString path = item.image.absolutePath;
    const quint64 token = m_nextToken++;
    // The pixels go to the preparation: held by one task, not by the open item.
    cv::Mat pixels = std::exchange(item.pixels, cv::Mat());
    Open open;
    open.item = std::move(item);
    open.token = token;
    open.drawLocally = m_serverKind == ServerKind::V2;
    m_open.insert(path, std::move(open));
    Q_EMIT itemStarted(path);
    TransferOptions transfer;
    transfer.sendOriginal = m_settings.sendOriginalFiles || m_serverKind != ServerKind::V2;
    transfer.modelInput = m_served.input();
    transfer.jpegQuality = m_settings.prepareJpegQuality;
    // One decode for the model's copy, the result and the thumbnail: the result is drawn here.
    transfer.resultMaxSide = m_serverKind == ServerKind::V2 ? m_settings.resultMaxSide : -1;
    transfer.thumbnailBox = m_settings.thumbnailBox;
    auto *watcher = new QFutureWatcher<PreparedImage>(this);
    connect(watcher, &QFutureWatcher<PreparedImage>::finished, this, [this, watcher, path, token] {
        watcher->deleteLater();
        readFinished(path, token, watcher->future().takeResult());
    });
    // Ahead of drawing and writing in the pool: a read feeds the link.
    if (pixels.empty()) {
        watcher->setFuture(QtConcurrent::task(&ImageTransfer::readAndPrepare)
                               .withArguments(path, transfer)
                               .withPriority(1)
                               .spawn());
    } else {
        watcher->setFuture(QtConcurrent::task([pixels = std::move(pixels), path, transfer]() mutable {
                               PreparedImage prepared = ImageTransfer::prepareFromPixels(pixels, path, transfer);
                               pixels.release(); // the canvas keeps what it needs
                               return prepared;
                           })
                               .withPriority(1)
                               .spawn());
    }
}

void ProcessingLoop::readFinished(const QString &path, quint64 token, PreparedImage prepared)
{
    auto it = m_open.find(path);
    if (it == m_open.end() || it->token != token)
        return; // cancelled or requeued meanwhile
    it->reading = false;
    if (!prepared.thumbnail.isNull())
        Q_EMIT originalThumbnail(path, std::exchange(prepared.thumbnail, QImage()), m_settings.thumbnailBox);
    Q_EMIT openChanged(); // none made here: the gallery's cache loads it itself
    if (!prepared.error.isEmpty()) {
        fail(path, prepared.error);
        return;
    }
    DetectOptions options = m_options;
    // Detections as data are enough: the marked-up image is drawn here, on the original.
    if (it->drawLocally)
        options.returnImage = false;
    it->requestId = m_client->submit(prepared.payload, options);
    prepared.payload.clear(); // the client holds its own copy until the answer
    it->prepared = std::move(prepared);
    it->answersAtSend = m_answers;
    it->sentAt = m_clock.elapsed();
    m_pathOfRequest.insert(it->requestId, path);
    Q_EMIT itemSubmitted(path);
}

void ProcessingLoop::handleResult(quint64 id, const ClientResult &result)
{
    const QString path = m_pathOfRequest.take(id);
    if (path.isEmpty())
        return; // cancelled, or not ours
    auto it = m_open.find(path);
    if (it == m_open.end())
        return;
    ++m_answers;
    m_lastRoundTripMs = result.roundTripMs;
    if (m_outage.onSuccess()) {
        m_resendTimer.stop();
        // server-info may have failed only because the target was away: ask again.
        if (m_serverKind == ServerKind::Legacy && m_client->activeProtocol() != DetectionClient::Protocol::Legacy)
            m_serverKind = ServerKind::Unknown;
        Q_EMIT outageChanged(false, QString());
    }
    it->requestId = 0;
    it->saving = true;
    ++m_saving;
    const quint64 token = it->token;
    SavePlan plan = m_planner ? m_planner(it->item.image, result) : SavePlan();
    if (!plan.refusal.isEmpty() || !plan.write) {
        ItemOutcome outcome;
        outcome.answered = true;
        outcome.refused = true;
        outcome.result = result;
        outcome.error = plan.refusal.isEmpty() ? tr("result not saved: nowhere to write it") : plan.refusal;
        finishItem(path, std::move(outcome));
        return;
    }
    Finishing how;
    how.plan = std::move(plan);
    // A v2 answer without an image is drawn here; a legacy one (image only) is saved as it came.
    how.drawLocally = it->drawLocally && result.hasDetectionData && result.jpeg.isEmpty();
    // Moved: the canvas it holds is drawn on, then released with the save.
    how.prepared = std::exchange(it->prepared, PreparedImage());
    how.maxSide = m_settings.resultMaxSide;
    how.jpegQuality = m_options.jpegQuality;
    how.note = m_served.markupNote(result.device);
    how.thumbnailBox = m_settings.thumbnailBox;
    auto *watcher = new QFutureWatcher<ItemOutcome>(this);
    connect(watcher, &QFutureWatcher<ItemOutcome>::finished, this, [this, watcher, path, token] {
        watcher->deleteLater();
        saveFinished(path, token, watcher->future().takeResult());
    });
    watcher->setFuture(QtConcurrent::run(completeAndSave, path, result, std::move(how)));
    pump(); // the slot it held on the link is free
}

void ProcessingLoop::handleFailure(quint64 id, const QString &reason, bool retryable)
{
    if (const std::optional<QString> device = m_served.takeFailure(id)) {
        // Legacy servers do not describe themselves: files go as they are, as ever.
        qCInfo(lcLoop).noquote() << "no server-info from" << *device << "(" << reason << "): sending files as they are";
        infoSettled();
        return;
    }
    const QString path = m_pathOfRequest.take(id);
    if (path.isEmpty())
        return;
    auto it = m_open.find(path);
    if (it == m_open.end())
        return;
    if (m_answers > it->answersAtSend)
        ++it->item.strikes; // others got through meanwhile
    const bool connected = m_client->connectionState() == DetectionClient::ConnectionState::Connected;
    switch (m_outage.onFailure(retryable, connected, it->item.strikes)) {
    case OutagePolicy::Decision::Fail:
        fail(path, reason);
        return;
    case OutagePolicy::Decision::SendAgain: {
        Item item = std::move(it->item);
        item.notBefore = m_clock.elapsed() + OutagePolicy::resendDelay(m_clock.elapsed() - it->sentAt);
        m_open.erase(it);
        push(std::move(item), true);
        Q_EMIT outageChanged(true, reason);
        Q_EMIT progressChanged();
        pump();
        return;
    }
    case OutagePolicy::Decision::FailEverything: {
        const QString why = m_outage.givingUp(reason);
        fail(path, why);
        failQueued(why);
        return;
    }
    }
}

void ProcessingLoop::saveFinished(const QString &path, quint64 token, ItemOutcome outcome)
{
    auto it = m_open.find(path);
    if (it == m_open.end() || it->token != token)
        return;
    if (!outcome.error.isEmpty())
        outcome.kind = ItemOutcome::Kind::Failed;
    finishItem(path, std::move(outcome));
}

void ProcessingLoop::fail(const QString &path, const QString &reason)
{
    ItemOutcome outcome;
    outcome.kind = ItemOutcome::Kind::Failed;
    outcome.error = reason;
    finishItem(path, std::move(outcome));
}

void ProcessingLoop::finishItem(const QString &path, ItemOutcome outcome)
{
    const auto it = m_open.find(path);
    if (it != m_open.end()) {
        if (it->saving)
            --m_saving;
        if (it->requestId)
            m_pathOfRequest.remove(it->requestId);
        m_open.erase(it);
    }
    Q_EMIT openChanged();
    ++m_batchFinished;
    m_finishTimes.append(m_clock.elapsed());
    // The rate is about "now": keep the last ten seconds, at least a few samples.
    while (m_finishTimes.size() > 4 && m_finishTimes.last() - m_finishTimes.first() > 10000)
        m_finishTimes.removeFirst();
    if (m_finishTimes.size() > 200)
        m_finishTimes.removeFirst();
    Q_EMIT itemFinished(path, outcome);
    Q_EMIT progressChanged();
    pump();
    checkIdle();
}

void ProcessingLoop::checkIdle()
{
    // Once per busy -> idle transition, however many paths lead there.
    if (isBusy()) {
        m_idleAnnounced = false;
        return;
    }
    if (!m_idleAnnounced) {
        m_idleAnnounced = true;
        Q_EMIT idle();
    }
}

} // namespace edgelens

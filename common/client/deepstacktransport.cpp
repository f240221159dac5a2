#include "deepstacktransport.h"

#include "client/deepstackreply.h"
#include "client/socketfactory.h"
#include "imaging/imagetransfer.h"
#include "imaging/scaleddecode.h"
#include "protocol/softassert.h"
#include "protocol/tlsfingerprint.h"

#include <QFutureWatcher>
#include <QHttpMultiPart>
#include <QImageReader>
#include <QBuffer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QTcpSocket>
#include <QTimer>
#include <QtConcurrent/QtConcurrentRun>

Q_LOGGING_CATEGORY(lcDeepStack, "edgelens.client.deepstack", QtInfoMsg)

namespace edgelens {

namespace {

// A DeepStack answer is a few KB of JSON; a body far beyond that is not one.
constexpr qint64 kMaxAnswerBytes = 16 * 1024 * 1024;

QByteArray imageContentType(const QByteArray &image)
{
    if (image.startsWith("\xFF\xD8\xFF"))
        return "image/jpeg";
    if (image.startsWith("\x89PNG"))
        return "image/png";
    return "application/octet-stream";
}

QHttpPart formField(const QByteArray &name, const QByteArray &value)
{
    QHttpPart part;
    part.setHeader(QNetworkRequest::ContentDispositionHeader, QStringLiteral("form-data; name=\"%1\"").arg(QString::fromLatin1(name)));
    part.setBody(value);
    return part;
}

QSize imageSize(const QByteArray &image)
{
    const QSize oriented = ScaledDecode::orientedSize(image);
    if (oriented.isValid())
        return oriented;
    QBuffer buffer;
    buffer.setData(image);
    buffer.open(QIODevice::ReadOnly);
    QImageReader reader(&buffer);
    reader.setAutoTransform(true);
    return reader.size();
}

} // namespace

DeepStackTransport::DeepStackTransport(const TransportSettings &settings, QObject *parent)
    : Transport(settings, parent)
    , m_manager(new QNetworkAccessManager(this))
{
    // The socket transports do not follow redirects either; a DeepStack server never sends one.
    m_manager->setRedirectPolicy(QNetworkRequest::ManualRedirectPolicy);
}

DeepStackTransport::~DeepStackTransport()
{
    for (const auto &exchange : std::as_const(m_exchanges)) {
        if (exchange->reply) {
            exchange->reply->disconnect(this);
            exchange->reply->abort();
        }
    }
    if (m_probe) {
        m_probe->disconnect(this);
        m_probe->abort();
    }
}

QUrl DeepStackTransport::baseUrl(const DeviceSpec &device)
{
    QUrl url;
    url.setScheme(device.tls ? QStringLiteral("https") : QStringLiteral("http"));
    url.setHost(device.host);
    url.setPort(device.port);
    return url;
}

QString DeepStackTransport::detectionPath(const QString &model)
{
    if (model.isEmpty())
        return QStringLiteral("/v1/vision/detection");
    return QStringLiteral("/v1/vision/custom/") + QString::fromLatin1(QUrl::toPercentEncoding(model));
}

void DeepStackTransport::open()
{
    if (m_probe || m_closed || m_ready)
        return;
    // Connect and hang up through the socket factory: for TLS this is where the device's
    // certificate is judged (pin, CA, known devices, first use), once per transport.
    probeDevice(
        &m_probe,
        [this](QTcpSocket *socket) {
            if (auto *ssl = qobject_cast<QSslSocket *>(socket))
                m_approved = ssl->peerCertificate();
            m_ready = true;
            Q_EMIT ready();
        },
        [this](const QString &reason, Loss loss) { fail(reason, loss); });
}

bool DeepStackTransport::reachedDevice(quint64 id) const
{
    const auto exchange = m_exchanges.value(id);
    return exchange && exchange->reachedDevice;
}

QNetworkReply *DeepStackTransport::post(const QString &path, const OutgoingRequest &request)
{
    QUrl url = baseUrl(m_settings.device);
    url.setPath(path, QUrl::TolerantMode);
    QNetworkRequest http(url);
    // One HTTP/1.1 request per image, as DeepStack clients send them.
    http.setAttribute(QNetworkRequest::Http2AllowedAttribute, false);
    if (m_settings.device.tls) {
        QSslConfiguration config = QSslConfiguration::defaultConfiguration();
        config.setProtocol(QSsl::TlsV1_2OrLater);
        http.setSslConfiguration(config);
    }
    auto *form = new QHttpMultiPart(QHttpMultiPart::FormDataType);
    if (request.kind == RequestKind::Detect) {
        QHttpPart image;
        image.setHeader(QNetworkRequest::ContentDispositionHeader,
                        QStringLiteral("form-data; name=\"image\"; filename=\"image\""));
        image.setHeader(QNetworkRequest::ContentTypeHeader, QString::fromLatin1(imageContentType(request.image)));
        image.setBody(request.image);
        form->append(image);
        form->append(formField("min_confidence", QByteArray::number(double(request.options.confidence), 'g', 6)));
    }
    if (!m_settings.token.isEmpty()) {
        form->append(formField("api_key", m_settings.token.toUtf8()));
        // DeepStack reads the form field; CodeProject.AI Server and reverse proxies in front
        // of either commonly check the header. Both carry the same key.
        http.setRawHeader("Authorization", "Bearer " + m_settings.token.toUtf8());
    }
    QNetworkReply *reply = m_manager->post(http, form);
    form->setParent(reply);
    return reply;
}

void DeepStackTransport::send(const OutgoingRequest &request)
{
    EL_RETURN_IF_FAIL(!m_closed);
    auto exchange = std::make_shared<Exchange>();
    exchange->id = request.id;
    exchange->kind = request.kind;
    exchange->sent.start();
    QNetworkReply *reply = nullptr;
    switch (request.kind) {
    case RequestKind::Detect:
        exchange->request = request;
        reply = post(detectionPath(request.options.model), request);
        break;
    case RequestKind::Info:
        reply = post(QStringLiteral("/v1/vision/custom/list"), request);
        break;
    case RequestKind::Ping: {
        QUrl url = baseUrl(m_settings.device);
        url.setPath(QStringLiteral("/"));
        QNetworkRequest http(url);
        http.setAttribute(QNetworkRequest::Http2AllowedAttribute, false);
        reply = m_manager->get(http);
        break;
    }
    }
    exchange->reply = reply;
    m_exchanges.insert(request.id, exchange);
    watch(reply, exchange);
}

void DeepStackTransport::watch(QNetworkReply *reply, const std::shared_ptr<Exchange> &exchange)
{
    std::weak_ptr<Exchange> weak = exchange;
    connect(reply, &QNetworkReply::requestSent, this, [weak] {
        if (const auto e = weak.lock())
            e->reachedDevice = true;
    });
    connect(reply, &QNetworkReply::uploadProgress, this, [weak](qint64 sent, qint64) {
        if (const auto e = weak.lock(); e && sent > 0)
            e->reachedDevice = true;
    });
    connect(reply, &QNetworkReply::downloadProgress, this, [this, reply](qint64 received, qint64) {
        if (received > kMaxAnswerBytes) {
            qCWarning(lcDeepStack).noquote() << deviceName() << "sent more than" << kMaxAnswerBytes << "bytes; aborting";
            reply->setProperty("tooLarge", true);
            reply->abort();
        }
    });
    if (m_settings.device.tls) {
        // The approved certificate (open()) is the only one accepted: the errors it raises
        // for not being CA-signed were judged already, any other certificate is refused.
        connect(reply, &QNetworkReply::sslErrors, this, [this, reply](const QList<QSslError> &) {
            if (reply->sslConfiguration().peerCertificate() == m_approved && !m_approved.isNull())
                reply->ignoreSslErrors();
        });
        connect(reply, &QNetworkReply::encrypted, this, [this, reply] { certificateApproved(reply); });
    }
    connect(reply, &QNetworkReply::finished, this, [this, reply] { handleFinished(reply); });
}

bool DeepStackTransport::certificateApproved(QNetworkReply *reply)
{
    const QSslCertificate offered = reply->sslConfiguration().peerCertificate();
    if (!m_approved.isNull() && offered == m_approved)
        return true;
    // Nothing has been sent on this connection yet (QNetworkAccessManager::encrypted).
    reply->setProperty("certificateRefused", true);
    const QString reason = QStringLiteral("The TLS certificate of %1 changed between connections (approved %2, "
                                          "offered %3). Nothing was sent to it.")
                               .arg(deviceName(), TlsFingerprint::ofDer(m_approved.toDer()),
                                    TlsFingerprint::ofDer(offered.toDer()));
    QTimer::singleShot(0, this, [this, reason] { fail(reason, Loss::Refused); });
    reply->abort();
    return false;
}

void DeepStackTransport::handleFinished(QNetworkReply *reply)
{
    reply->deleteLater();
    if (m_closed)
        return;
    std::shared_ptr<Exchange> exchange;
    for (const auto &candidate : std::as_const(m_exchanges)) {
        if (candidate->reply == reply) {
            exchange = candidate;
            break;
        }
    }
    if (!exchange)
        return; // forgotten
    if (reply->property("certificateRefused").toBool())
        return; // fail() follows
    const QVariant statusAttribute = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute);
    if (!statusAttribute.isValid()) {
        // No HTTP answer at all: the connection could not be made or broke.
        if (reply->property("tooLarge").toBool()) {
            release(exchange->id);
            Q_EMIT requestFailed(exchange->id,
                                 QStringLiteral("The server at %1 answered with more than %2 MB: not a DeepStack answer.")
                                     .arg(deviceName())
                                     .arg(kMaxAnswerBytes / (1024 * 1024)),
                                 false);
            return;
        }
        const QString detail = reply->errorString();
        const QHash<QNetworkReply::NetworkError, QAbstractSocket::SocketError> socketErrors{
            {QNetworkReply::ConnectionRefusedError, QAbstractSocket::ConnectionRefusedError},
            {QNetworkReply::HostNotFoundError, QAbstractSocket::HostNotFoundError},
            {QNetworkReply::RemoteHostClosedError, QAbstractSocket::RemoteHostClosedError},
            {QNetworkReply::SslHandshakeFailedError, QAbstractSocket::SslHandshakeFailedError}};
        const auto known = socketErrors.constFind(reply->error());
        const QString reason = known != socketErrors.cend()
            ? describeSocketError(*known, m_settings.device.host, m_settings.device.port, detail)
            : QStringLiteral("The HTTP request to %1 failed: %2").arg(deviceName(), detail);
        if (reply->error() == QNetworkReply::SslHandshakeFailedError)
            fail(reason, Loss::Refused);
        else
            fail(reason, exchange->reachedDevice ? Loss::Dropped : Loss::ConnectFailed);
        return;
    }
    const int status = statusAttribute.toInt();
    const QByteArray body = reply->readAll();
    switch (exchange->kind) {
    case RequestKind::Detect:
        handleDetectAnswer(exchange, status, body);
        break;
    case RequestKind::Info:
        handleInfoAnswer(exchange, status, body);
        break;
    case RequestKind::Ping:
        release(exchange->id);
        if (status >= 500) {
            fail(QStringLiteral("The server at %1 answered HTTP %2.").arg(deviceName()).arg(status), Loss::Dropped);
            return;
        }
        Q_EMIT pongReceived(exchange->id, double(exchange->sent.nsecsElapsed()) / 1e6);
        break;
    }
}

QString DeepStackTransport::apiKeyFailure(const QString &serverWords) const
{
    return QStringLiteral("The server at %1 refused the API key (%2): check the token (--token or EDGELENS_TOKEN; the "
                          "app's token setting). It is sent as the api_key form field and as Authorization: Bearer.")
        .arg(deviceName(), serverWords);
}

void DeepStackTransport::handleDetectAnswer(const std::shared_ptr<Exchange> &exchange, int status,
                                            const QByteArray &body)
{
    const DeepStackReply answer = DeepStackReply::parse(status, body, deviceName());
    const quint64 id = exchange->id;
    switch (answer.outcome) {
    case DeepStackReply::Outcome::Ok:
        finishDetect(exchange, answer);
        return;
    case DeepStackReply::Outcome::ImageRefused:
        release(id);
        Q_EMIT requestFailed(id, QStringLiteral("The server at %1 refused the image: %2").arg(deviceName(), answer.message),
                             false);
        return;
    case DeepStackReply::Outcome::NotDeepStack:
        release(id);
        Q_EMIT requestFailed(id, answer.message, false);
        return;
    case DeepStackReply::Outcome::Busy:
        release(id);
        Q_EMIT requestBusy(id, QStringLiteral("The server at %1 is busy: %2").arg(deviceName(), answer.message));
        return;
    case DeepStackReply::Outcome::Unauthorized:
        fail(apiKeyFailure(answer.message), Loss::Refused);
        return;
    case DeepStackReply::Outcome::ServerError:
        fail(QStringLiteral("The server at %1 failed: %2").arg(deviceName(), answer.message), Loss::Dropped);
        return;
    }
}

void DeepStackTransport::handleInfoAnswer(const std::shared_ptr<Exchange> &exchange, int status,
                                          const QByteArray &body)
{
    const quint64 id = exchange->id;
    const double ms = double(exchange->sent.nsecsElapsed()) / 1e6;
    release(id);
    if (status == 401 || status == 403) {
        fail(apiKeyFailure(QJsonDocument::fromJson(body).object().value(QStringLiteral("error")).toString()),
             Loss::Refused);
        return;
    }
    if (status >= 500 && status != 503) {
        fail(QStringLiteral("The server at %1 answered HTTP %2.").arg(deviceName()).arg(status), Loss::Dropped);
        return;
    }
    // DeepStack itself has no model list (404): it is still a DeepStack server.
    QJsonArray models;
    const QJsonObject object = QJsonDocument::fromJson(body).object();
    if (status == 200) {
        for (const QJsonValue &name : object.value(QStringLiteral("models")).toArray())
            models.append(QJsonObject{{QStringLiteral("name"), name.toString()}});
    }
    QJsonObject info{{QStringLiteral("server"), QStringLiteral("DeepStack / CodeProject.AI")},
                     {QStringLiteral("protocol"), QStringLiteral("deepstack")},
                     {QStringLiteral("models"), models}};
    if (object.contains(QStringLiteral("moduleName")))
        info.insert(QStringLiteral("software"), object.value(QStringLiteral("moduleName")));
    Q_EMIT infoReceived(id, info, ms);
}

void DeepStackTransport::finishDetect(const std::shared_ptr<Exchange> &exchange, const DeepStackReply &answer)
{
    const OutgoingRequest &request = exchange->request;
    ClientResult result;
    result.hasDetectionData = true;
    result.protocol = QStringLiteral("deepstack");
    result.roundTripMs = double(exchange->sent.nsecsElapsed()) / 1e6;
    const QSize size = imageSize(request.image);
    result.result.imageWidth = size.width();
    result.result.imageHeight = size.height();
    result.result.model = !answer.model.isEmpty() ? answer.model : request.options.model;
    result.result.timings.inferenceMs = answer.inferenceMs;
    // What the server was not told: how many boxes at most (DeepStack has no such field).
    QList<Detection> detections = answer.detections;
    if (request.options.maxDetections > 0 && detections.size() > request.options.maxDetections)
        detections.resize(request.options.maxDetections);
    result.result.detections = detections;
    if (!request.options.returnImage) {
        const quint64 id = exchange->id;
        release(id);
        Q_EMIT replied(id, result);
        return;
    }
    // Drawing decodes and encodes the whole image: a worker thread's job.
    const QByteArray image = request.image;
    const int quality = request.options.jpegQuality;
    auto *watcher = new QFutureWatcher<std::pair<QByteArray, QString>>(this);
    std::weak_ptr<Exchange> weak = exchange;
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, weak, result]() mutable {
        watcher->deleteLater();
        const auto live = weak.lock();
        if (m_closed || !live || m_exchanges.value(live->id) != live)
            return; // forgotten or lost meanwhile
        const auto [jpeg, error] = watcher->result();
        const quint64 id = live->id;
        release(id);
        if (jpeg.isEmpty()) {
            Q_EMIT requestFailed(id, QStringLiteral("Could not draw the markup: %1").arg(error), false);
            return;
        }
        result.jpeg = jpeg;
        Q_EMIT replied(id, result);
    });
    watcher->setFuture(QtConcurrent::run([image, detections, quality] {
        QString error;
        QByteArray jpeg = ImageTransfer::renderMarkup(image, detections, 0, quality, QString(), &error);
        return std::make_pair(jpeg, error);
    }));
}

void DeepStackTransport::forget(quint64 id)
{
    const auto exchange = m_exchanges.value(id);
    if (!exchange)
        return;
    release(id);
    if (exchange->reply) {
        exchange->reply->disconnect(this);
        exchange->reply->abort();
        exchange->reply->deleteLater();
    }
}

void DeepStackTransport::release(quint64 id)
{
    m_exchanges.remove(id);
}

void DeepStackTransport::fail(const QString &reason, Loss loss)
{
    if (m_closed)
        return;
    m_closed = true;
    if (m_probe) {
        m_probe->disconnect(this);
        m_probe->abort();
        m_probe->deleteLater();
        m_probe = nullptr;
    }
    for (const auto &exchange : std::as_const(m_exchanges)) {
        if (exchange->reply) {
            exchange->reply->disconnect(this);
            exchange->reply->abort();
            exchange->reply->deleteLater();
        }
    }
    qCDebug(lcDeepStack).noquote() << "DeepStack exchange with" << deviceName() << "failed:" << reason;
    // Keep the records until lost() is handled: the channel asks which requests reached the device.
    Q_EMIT lost(reason, loss);
    m_exchanges.clear();
}

} // namespace edgelens

#include "flakyserver.h"

#include "protocol/detection.h"

#include <QBuffer>
#include <QImage>
#include <QJsonArray>
#include <QJsonObject>
#include <QTimer>

using namespace edgelens;

FlakyServer::FlakyServer(bool legacy, QObject *parent)
    : QObject(parent)
    , m_legacy(legacy)
{
    connect(&m_server, &QTcpServer::newConnection, this, &FlakyServer::handleNewConnection);
}

FlakyServer::~FlakyServer()
{
    stop();
}

bool FlakyServer::listen(quint16 port)
{
    if (!m_server.listen(QHostAddress::LocalHost, port))
        return false;
    m_port = m_server.serverPort();
    return true;
}

void FlakyServer::stop()
{
    m_server.close();
    const QList<QTcpSocket *> sockets = m_peers.keys();
    m_peers.clear();
    for (QTcpSocket *socket : sockets) {
        socket->abort();
        socket->deleteLater();
    }
}

QByteArray FlakyServer::tinyJpeg()
{
    QImage image(16, 12, QImage::Format_RGB32);
    image.fill(Qt::red);
    QByteArray bytes;
    QBuffer buffer(&bytes);
    buffer.open(QIODevice::WriteOnly);
    image.save(&buffer, "JPEG");
    return bytes;
}

void FlakyServer::handleNewConnection()
{
    while (QTcpSocket *socket = m_server.nextPendingConnection()) {
        ++connections;
        if (outageAfterAnswers > 0 && answered >= outageAfterAnswers && cutInOutage < outageConnections) {
            ++cutInOutage;
            socket->abort();
            socket->deleteLater();
            continue;
        }
        auto peer = std::make_shared<Peer>();
        peer->reader = std::make_unique<protocol::FrameReader>(m_legacy ? protocol::FrameReader::Mode::Legacy
                                                                         : protocol::FrameReader::Mode::V2);
        m_peers.insert(socket, peer);
        connect(socket, &QTcpSocket::readyRead, this, [this, socket] { handleReadyRead(socket); });
        connect(socket, &QTcpSocket::disconnected, this, [this, socket] {
            m_peers.remove(socket);
            socket->deleteLater();
        });
        if (!m_legacy)
            socket->write(protocol::encodePreamble());
    }
}

void FlakyServer::handleReadyRead(QTcpSocket *socket)
{
    const auto peer = m_peers.value(socket);
    if (!peer)
        return;
    peer->reader->append(socket->readAll());
    for (;;) {
        const auto status = peer->reader->poll();
        if (status == protocol::FrameReader::Status::Error) {
            socket->abort();
            return;
        }
        if (status == protocol::FrameReader::Status::NeedMore)
            return;
        if (m_legacy) {
            peer->reader->takeLegacyPayload();
            ++detectRequests;
            const bool cut = dropRepliesLeft > 0;
            if (cut)
                --dropRepliesLeft;
            reply(socket, protocol::encodeLegacyFrame(tinyJpeg()), cut, true);
            continue;
        }
        const protocol::Message request = peer->reader->takeMessage();
        protocol::Message answer;
        answer.requestId = request.requestId;
        switch (request.type) {
        case protocol::MessageType::Detect: {
            ++detectRequests;
            DetectionResult result;
            result.imageWidth = 16;
            result.imageHeight = 12;
            result.model = QStringLiteral("flaky-model");
            Detection cat;
            cat.classId = 15;
            cat.label = QStringLiteral("cat");
            cat.confidence = 0.8f;
            cat.box = QRectF(1, 1, 8, 6);
            result.detections = {cat};
            const DetectOptions options = detectOptionsFromJson(request.meta);
            lastImageSize = QImage::fromData(request.blob).size();
            const bool dataOnly = modelInput.isValid() && !options.returnImage;
            if (dataOnly) {
                const double w = lastImageSize.width(), h = lastImageSize.height();
                result.imageWidth = lastImageSize.width();
                result.imageHeight = lastImageSize.height();
                result.detections.first().box = QRectF(w / 4, h / 4, w / 2, h / 2);
                result.detections.append(Detection{16, QStringLiteral("dog"), 0.15f, QRectF(0, 0, w / 10, h / 10)});
            }
            answer.type = protocol::MessageType::Result;
            answer.meta = toJson(result);
            if (!dataOnly)
                answer.blob = tinyJpeg();
            const bool cut = dropRepliesLeft > 0;
            if (cut)
                --dropRepliesLeft;
            reply(socket, protocol::encodeMessage(answer), cut, false);
            break;
        }
        case protocol::MessageType::InfoRequest:
            answer.type = protocol::MessageType::Info;
            answer.meta = {{QStringLiteral("server"), QStringLiteral("FlakyServer")}};
            if (modelInput.isValid()) {
                answer.meta.insert(QStringLiteral("models"),
                                   QJsonArray{QJsonObject{{QStringLiteral("name"), QStringLiteral("flaky-model")},
                                                          {QStringLiteral("default"), true},
                                                          {QStringLiteral("input_width"), modelInput.width()},
                                                          {QStringLiteral("input_height"), modelInput.height()}}});
            }
            reply(socket, protocol::encodeMessage(answer), false, false);
            break;
        case protocol::MessageType::Ping:
            answer.type = protocol::MessageType::Pong;
            reply(socket, protocol::encodeMessage(answer), false, false);
            break;
        default:
            reply(socket, protocol::encodeMessage(protocol::makeError(request.requestId, protocol::ErrorCode::BadFrame,
                                                                      QStringLiteral("unexpected message"))),
                  false, false);
            break;
        }
    }
}

void FlakyServer::reply(QTcpSocket *socket, const QByteArray &bytes, bool cut, bool closeAfter)
{
    QPointer<QTcpSocket> guard(socket);
    const auto send = [this, guard, bytes, cut, closeAfter] {
        if (!guard || !m_peers.contains(guard.data()))
            return;
        if (cut) {
            // Half a reply, then the connection is gone: what a crash or a cable pull looks like.
            guard->write(bytes.left(bytes.size() / 2));
            guard->disconnectFromHost();
            return;
        }
        guard->write(bytes);
        ++answered;
        if (closeAfter)
            guard->disconnectFromHost();
        if (outageAfterAnswers > 0 && answered == outageAfterAnswers) {
            // The outage starts: what is connected now goes away too (after this reply).
            guard->flush();
            const QList<QTcpSocket *> connected = m_peers.keys();
            m_peers.clear();
            for (QTcpSocket *other : connected) {
                other->disconnectFromHost();
                other->deleteLater();
            }
        }
    };
    if (replyDelayMs > 0)
        QTimer::singleShot(replyDelayMs, this, send);
    else
        send();
}

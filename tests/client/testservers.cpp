#include "testservers.h"

#include <QBuffer>
#include <QImage>
#include <QPainter>
#include <QTimer>
#include <QtEndian>

using namespace edgelens;

LegacyTestServer::LegacyTestServer(QObject *parent)
    : QTcpServer(parent)
{
}

void LegacyTestServer::incomingConnection(qintptr handle)
{
    auto *socket = new QTcpSocket(this);
    socket->setSocketDescriptor(handle);
    ++connections;
    m_buffers.insert(socket, QByteArray());
    connect(socket, &QTcpSocket::readyRead, this, [this, socket] { handleReadyRead(socket); });
    connect(socket, &QTcpSocket::disconnected, this, [this, socket] {
        m_buffers.remove(socket);
        socket->deleteLater();
    });
}

void LegacyTestServer::handleReadyRead(QTcpSocket *socket)
{
    QByteArray &buffer = m_buffers[socket];
    buffer.append(socket->readAll());
    if (buffer.size() < 4)
        return;
    const quint32 length = qFromLittleEndian<quint32>(buffer.constData());
    if (length > 64u * 1024u * 1024u) {
        // The tutorial server would keep reading for ever; keep only the count, not the bytes.
        buffer.truncate(4);
        return;
    }
    if (buffer.size() < qsizetype(4 + length))
        return;
    if (closeWithoutReply) {
        socket->disconnectFromHost();
        return;
    }
    QImage image = QImage::fromData(buffer.mid(4, length));
    QByteArray jpeg;
    if (!image.isNull()) {
        image = image.convertToFormat(QImage::Format_RGB32);
        QPainter painter(&image);
        painter.setPen(QPen(Qt::green, 3));
        painter.drawRect(image.rect().adjusted(2, 2, -3, -3));
        painter.end();
        QBuffer out(&jpeg);
        out.open(QIODevice::WriteOnly);
        image.save(&out, "JPEG", 90);
    }
    ++answered;
    socket->write(protocol::encodeLegacyFrame(jpeg));
    socket->disconnectFromHost();
}

ScriptedV2Server::ScriptedV2Server(QObject *parent)
    : QTcpServer(parent)
{
}

void ScriptedV2Server::incomingConnection(qintptr handle)
{
    auto *socket = new QTcpSocket(this);
    socket->setSocketDescriptor(handle);
    ++connections;
    auto peer = std::make_shared<Peer>();
    peer->reader = std::make_unique<protocol::FrameReader>(protocol::FrameReader::Mode::V2);
    m_peers.insert(socket, peer);
    socket->write(protocol::encodePreamble());
    connect(socket, &QTcpSocket::readyRead, this, [this, socket] { handleReadyRead(socket); });
    connect(socket, &QTcpSocket::disconnected, this, [this, socket] {
        m_peers.remove(socket);
        socket->deleteLater();
    });
}

void ScriptedV2Server::handleReadyRead(QTcpSocket *socket)
{
    const auto peer = m_peers.value(socket);
    if (!peer)
        return;
    peer->reader->append(socket->readAll());
    for (;;) {
        const auto status = peer->reader->poll();
        if (status == protocol::FrameReader::Status::NeedMore)
            return;
        if (status == protocol::FrameReader::Status::Error) {
            socket->abort();
            return;
        }
        handleMessage(socket, *peer, peer->reader->takeMessage());
        if (!m_peers.contains(socket) || socket->state() != QAbstractSocket::ConnectedState)
            return;
    }
}

QByteArray ScriptedV2Server::resultFor(const protocol::Message &request)
{
    DetectionResult result;
    const QImage image = QImage::fromData(request.blob);
    result.imageWidth = image.width();
    result.imageHeight = image.height();
    result.model = QString::number(request.blob.size());
    Detection d;
    d.classId = 0;
    d.label = QStringLiteral("person");
    d.confidence = 0.9f;
    d.box = QRectF(1, 2, 3, 4);
    result.detections = {d};
    return protocol::encodeMessage(protocol::makeResult(request.requestId, result, QByteArray("JPEGDATA")));
}

void ScriptedV2Server::handleMessage(QTcpSocket *socket, Peer &peer, const protocol::Message &message)
{
    using protocol::MessageType;
    if (message.type == MessageType::Auth) {
        if (message.meta.value(QStringLiteral("token")).toString() == requiredToken) {
            peer.authenticated = true;
            socket->write(protocol::encodeMessage(protocol::makeAuthOk(message.requestId)));
        } else {
            socket->write(protocol::encodeMessage(
                protocol::makeError(message.requestId, protocol::ErrorCode::Unauthorized, QStringLiteral("wrong token"))));
            socket->disconnectFromHost();
        }
        return;
    }
    if (!requiredToken.isEmpty() && !peer.authenticated) {
        socket->write(protocol::encodeMessage(
            protocol::makeError(message.requestId, protocol::ErrorCode::Unauthorized, QStringLiteral("token required"))));
        socket->disconnectFromHost();
        return;
    }
    switch (message.type) {
    case MessageType::Ping:
        socket->write(protocol::encodeMessage(protocol::makePong(message)));
        return;
    case MessageType::InfoRequest:
        socket->write(protocol::encodeMessage(protocol::makeInfo(
            message.requestId, QJsonObject{{QStringLiteral("software"), QStringLiteral("scripted-test-server")},
                                           {QStringLiteral("protocol_version"), protocol::kVersion}})));
        return;
    case MessageType::Detect:
        break;
    default:
        socket->write(protocol::encodeMessage(
            protocol::makeError(message.requestId, protocol::ErrorCode::BadRequest, QStringLiteral("unexpected"))));
        return;
    }

    ++detectRequests;
    receivedOptions.append(message.meta);
    switch (behaviour) {
    case Behaviour::Answer:
        socket->write(resultFor(message));
        return;
    case Behaviour::DropMidReply:
        if (dropsLeft > 0) {
            --dropsLeft;
            const QByteArray reply = resultFor(message);
            socket->write(reply.left(reply.size() / 2));
            socket->flush();
            socket->disconnectFromHost();
        } else {
            socket->write(resultFor(message));
        }
        return;
    case Behaviour::NeverAnswer:
        return;
    case Behaviour::AnswerInReverse:
        peer.held.append(message);
        if (peer.held.size() >= holdCount) {
            for (auto it = peer.held.crbegin(); it != peer.held.crend(); ++it)
                socket->write(resultFor(*it));
            peer.held.clear();
        }
        return;
    case Behaviour::LimitInFlight:
        if (peer.held.size() >= inFlightLimit) {
            ++busyAnswers;
            socket->write(protocol::encodeMessage(
                protocol::makeError(message.requestId, protocol::ErrorCode::Busy, QStringLiteral("too many in flight"))));
            return;
        }
        peer.held.append(message);
        QTimer::singleShot(30, socket, [this, socket] {
            const auto current = m_peers.value(socket);
            if (!current || current->held.isEmpty())
                return;
            socket->write(resultFor(current->held.takeFirst()));
        });
        return;
    case Behaviour::ErrorUndecodable:
        socket->write(protocol::encodeMessage(protocol::makeError(
            message.requestId, protocol::ErrorCode::UndecodableImage, QStringLiteral("cannot decode the image"))));
        return;
    }
}

HttpTestServer::HttpTestServer(QObject *parent)
    : QTcpServer(parent)
{
}

void HttpTestServer::incomingConnection(qintptr handle)
{
    auto *socket = new QTcpSocket(this);
    socket->setSocketDescriptor(handle);
    connect(socket, &QTcpSocket::readyRead, this, [this, socket] {
        QByteArray &buffer = m_buffers[socket];
        buffer.append(socket->readAll());
        const qsizetype end = buffer.indexOf("\r\n\r\n");
        if (end < 0)
            return;
        const QByteArray head = buffer.left(end);
        buffer.clear();
        answer(socket, head);
    });
    connect(socket, &QTcpSocket::disconnected, this, [this, socket] {
        m_buffers.remove(socket);
        socket->deleteLater();
    });
}

void HttpTestServer::answer(QTcpSocket *socket, const QByteArray &head)
{
    ++requests;
    const QList<QByteArray> lines = head.split('\n');
    const QList<QByteArray> requestLine = lines.first().trimmed().split(' ');
    const QString name = QString::fromLatin1(requestLine.value(1).mid(1));
    qint64 from = 0;
    QByteArray range;
    for (const QByteArray &line : lines) {
        if (line.toLower().startsWith("range:")) {
            range = line.mid(6).trimmed();
            from = range.mid(6, range.indexOf('-') - 6).toLongLong();
        }
    }
    rangeHeaders.append(range);
    if (!files.contains(name)) {
        socket->write("HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found");
        socket->disconnectFromHost();
        return;
    }
    const QByteArray data = files.value(name);
    QByteArray body = data;
    QByteArray header;
    if (!range.isEmpty() && supportRange) {
        body = data.mid(from);
        header = "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes " + QByteArray::number(from) + '-'
            + QByteArray::number(data.size() - 1) + '/' + QByteArray::number(data.size()) + "\r\n";
    } else {
        header = "HTTP/1.1 200 OK\r\n";
    }
    header += "Content-Length: " + QByteArray::number(body.size()) + "\r\nConnection: close\r\n\r\n";
    socket->write(header);
    if (cutAfter >= 0) {
        socket->write(body.left(cutAfter));
        cutAfter = -1;
        socket->flush();
        socket->abort();
        return;
    }
    socket->write(body);
    socket->disconnectFromHost();
}

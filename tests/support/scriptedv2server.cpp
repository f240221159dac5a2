#include "scriptedv2server.h"

#include "protocol/detection.h"

#include <QImage>
#include <QTimer>

#include <algorithm>

namespace edgelens::test {

using protocol::ErrorCode;
using protocol::Message;
using protocol::MessageType;

ScriptedV2Server::ScriptedV2Server(QObject *parent)
    : FramedTestServer(protocol::FrameReader::Mode::V2, parent)
{
}

void ScriptedV2Server::connectionOpened(QTcpSocket *socket)
{
    m_state.insert(socket, Peer());
    if (closeBeforePreamble > 0) {
        --closeBeforePreamble;
        socket->disconnectFromHost();
        return;
    }
    socket->write(protocol::encodePreamble());
}

void ScriptedV2Server::connectionClosed(QTcpSocket *socket)
{
    m_state.remove(socket);
}

QByteArray ScriptedV2Server::resultFor(const Message &request)
{
    DetectionResult result;
    const QImage image = QImage::fromData(request.blob);
    result.imageWidth = image.width();
    result.imageHeight = image.height();
    result.model = QString::number(request.blob.size());
    result.detections = {Detection{0, QStringLiteral("person"), 0.9f, QRectF(1, 2, 3, 4)}};
    return protocol::encodeMessage(protocol::makeResult(request.requestId, result, QByteArray("JPEGDATA")));
}

void ScriptedV2Server::messageArrived(QTcpSocket *socket, const Message &message)
{
    Peer &peer = m_state[socket];
    const auto refuse = [socket, &message](const QString &why) {
        socket->write(protocol::encodeMessage(protocol::makeError(message.requestId, ErrorCode::Unauthorized, why)));
        socket->disconnectFromHost();
    };
    if (message.type == MessageType::Auth) {
        if (message.meta.value(QStringLiteral("token")).toString() != requiredToken)
            return refuse(QStringLiteral("wrong token"));
        peer.authenticated = true;
        socket->write(protocol::encodeMessage(protocol::makeAuthOk(message.requestId)));
        return;
    }
    if (!requiredToken.isEmpty() && !peer.authenticated)
        return refuse(QStringLiteral("token required"));
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
        answerDetect(socket, peer, message);
        return;
    default:
        socket->write(protocol::encodeMessage(
            protocol::makeError(message.requestId, ErrorCode::BadRequest, QStringLiteral("unexpected"))));
        return;
    }
}

void ScriptedV2Server::answerDetect(QTcpSocket *socket, Peer &peer, const Message &message)
{
    ++detectRequests;
    receivedOptions.append(message.meta);
    switch (behaviour) {
    case Behaviour::Answer:
        if (answerDelayMs > 0) {
            m_work.append({QPointer<QTcpSocket>(socket), message});
            workOnNext();
            return;
        }
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
                protocol::makeError(message.requestId, ErrorCode::Busy, QStringLiteral("too many in flight"))));
            return;
        }
        peer.held.append(message);
        maxHeld = std::max(maxHeld, int(peer.held.size()));
        QTimer::singleShot(30, socket, [this, socket] {
            const auto it = m_state.find(socket);
            if (it == m_state.end() || it->held.isEmpty())
                return;
            socket->write(resultFor(it->held.takeFirst()));
        });
        return;
    case Behaviour::ErrorUndecodable:
        socket->write(protocol::encodeMessage(protocol::makeError(
            message.requestId, ErrorCode::UndecodableImage, QStringLiteral("cannot decode the image"))));
        return;
    }
}

void ScriptedV2Server::workOnNext()
{
    if (m_working || m_work.isEmpty())
        return;
    m_working = true;
    QTimer::singleShot(answerDelayMs, this, [this] {
        m_working = false;
        const auto job = m_work.takeFirst();
        if (job.first && job.first->state() == QAbstractSocket::ConnectedState)
            job.first->write(resultFor(job.second));
        ++delayedDone;
        workOnNext();
    });
}

} // namespace edgelens::test

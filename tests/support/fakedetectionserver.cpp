#include "fakedetectionserver.h"

#include "protocol/detection.h"

#include <QtEndian>

namespace edgelens::test {

using namespace edgelens::protocol;

FakeDetectionServer::FakeDetectionServer(Mode mode, QObject *parent)
    : FramedTestServer(mode == Mode::V2 ? FrameReader::Mode::AutoDetect : FrameReader::Mode::Legacy, parent,
                       kMaxFrameLimit)
    , m_mode(mode)
{
}

bool FakeDetectionServer::bytesArrived(QTcpSocket *socket, const FrameReader &reader, const QByteArray &bytes)
{
    if (m_mode == Mode::Legacy && !reader.preambleSeen() && reader.bufferedBytes() == 0 && bytes.size() >= 4
        && qFromLittleEndian<quint32>(bytes.constData()) == kMagicAsLength) {
        // The tutorial server would now wait for a 1.4 GB image: say nothing, keep the line open.
        ignoreInputFrom(socket);
        return false;
    }
    return true;
}

void FakeDetectionServer::preambleArrived(QTcpSocket *socket)
{
    // A v2 server answers the client's preamble at once, before any message.
    socket->write(encodePreamble());
}

void FakeDetectionServer::legacyFrameArrived(QTcpSocket *socket, const QByteArray &payload)
{
    ++m_images;
    socket->write(encodeLegacyFrame(payload)); // "marked up": the same bytes back
    socket->disconnectFromHost();
}

void FakeDetectionServer::messageArrived(QTcpSocket *socket, const Message &message)
{
    switch (message.type) {
    case MessageType::InfoRequest:
        ++m_infoRequests;
        socket->write(encodeMessage(makeInfo(message.requestId, m_info)));
        break;
    case MessageType::Ping:
        socket->write(encodeMessage(makePong(message)));
        break;
    case MessageType::Detect: {
        ++m_images;
        DetectionResult result;
        result.model = QStringLiteral("fake");
        socket->write(encodeMessage(makeResult(message.requestId, result, message.blob)));
        break;
    }
    default:
        socket->write(encodeMessage(makeError(message.requestId, ErrorCode::BadFrame, QStringLiteral("unexpected"))));
        break;
    }
}

} // namespace edgelens::test

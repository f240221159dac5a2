#include "fakedetectionserver.h"

#include <QTcpSocket>
#include <QtEndian>

using namespace edgelens;
using namespace edgelens::protocol;

FakeDetectionServer::FakeDetectionServer(Mode mode, QObject *parent)
    : QObject(parent)
    , m_mode(mode)
{
    connect(&m_server, &QTcpServer::newConnection, this, &FakeDetectionServer::acceptConnection);
}

FakeDetectionServer::~FakeDetectionServer()
{
    // The sockets are the QTcpServer's children and die after m_readers; cut them loose first.
    const auto sockets = m_server.findChildren<QTcpSocket *>();
    for (QTcpSocket *socket : sockets) {
        socket->disconnect(this);
        socket->abort();
    }
}

bool FakeDetectionServer::listen()
{
    return m_server.listen(QHostAddress::LocalHost, 0);
}

quint16 FakeDetectionServer::port() const
{
    return m_server.serverPort();
}

void FakeDetectionServer::acceptConnection()
{
    while (QTcpSocket *socket = m_server.nextPendingConnection()) {
        const auto mode = m_mode == Mode::V2 ? FrameReader::Mode::AutoDetect : FrameReader::Mode::Legacy;
        m_readers.insert(socket, std::make_shared<FrameReader>(mode, kMaxFrameLimit));
        connect(socket, &QTcpSocket::readyRead, this, [this, socket] { readFrom(socket); });
        connect(socket, &QTcpSocket::disconnected, this, [this, socket] {
            m_readers.remove(socket);
            socket->deleteLater();
        });
    }
}

void FakeDetectionServer::readFrom(QTcpSocket *socket)
{
    const std::shared_ptr<FrameReader> reader = m_readers.value(socket);
    if (!reader)
        return;
    const QByteArray bytes = socket->readAll();
    if (m_mode == Mode::Legacy && !reader->preambleSeen() && reader->bufferedBytes() == 0 && bytes.size() >= 4
        && qFromLittleEndian<quint32>(bytes.constData()) == kMagicAsLength) {
        // The tutorial server would now wait for a 1.4 GB image: say nothing, keep the line open.
        m_readers.insert(socket, nullptr);
        return;
    }
    reader->append(bytes);
    for (;;) {
        const FrameReader::Status status = reader->poll();
        // A v2 server answers the client's preamble at once, before any message.
        if (reader->preambleSeen() && !socket->property("preambleSent").toBool()) {
            socket->setProperty("preambleSent", true);
            socket->write(encodePreamble());
        }
        if (status == FrameReader::Status::NeedMore)
            break;
        if (status == FrameReader::Status::Error) {
            socket->abort();
            return;
        }
        if (reader->mode() == FrameReader::Mode::Legacy) {
            const QByteArray image = reader->takeLegacyPayload();
            ++m_images;
            socket->write(encodeLegacyFrame(image)); // "marked up": the same bytes back
            socket->disconnectFromHost();
            return;
        }
        const Message message = reader->takeMessage();
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
}

#include "v2channel.h"

#include <QDeadlineTimer>
#include <QDebug>
#include <QTcpSocket>

namespace edgelens::test {

using namespace protocol;

V2Channel::V2Channel(QTcpSocket *socket)
    : m_socket(socket)
{
}

void V2Channel::send(const QByteArray &bytes)
{
    m_socket->write(bytes);
    m_socket->waitForBytesWritten(5000);
}

std::optional<Message> V2Channel::next(int timeoutMs)
{
    QDeadlineTimer deadline(timeoutMs);
    for (;;) {
        const FrameReader::Status status = m_reader.poll();
        if (status == FrameReader::Status::Ready)
            return m_reader.takeMessage();
        if (status == FrameReader::Status::Error) {
            qWarning() << "client parse error:" << m_reader.errorString();
            return std::nullopt;
        }
        if (m_socket->bytesAvailable() == 0) {
            if (m_socket->state() != QAbstractSocket::ConnectedState || deadline.hasExpired())
                return std::nullopt;
            m_socket->waitForReadyRead(int(qMax<qint64>(1, deadline.remainingTime())));
        }
        m_reader.append(m_socket->readAll());
    }
}

std::optional<Message> V2Channel::request(const Message &message, int timeoutMs)
{
    send(encodeMessage(message));
    return next(timeoutMs);
}

} // namespace edgelens::test

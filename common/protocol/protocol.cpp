#include "protocol.h"

#include <QJsonDocument>
#include <QJsonParseError>
#include <QLoggingCategory>
#include <QtEndian>

#include <cstring>
#include <utility>

Q_LOGGING_CATEGORY(lcProtocol, "edgelens.protocol")

namespace edgelens::protocol {

namespace {

// Compact once the consumed prefix is both large and most of the buffer, so a stream of small
// frames does not keep moving the tail while a big frame is never copied more than twice.
constexpr qsizetype kCompactThreshold = 64 * 1024;

void appendU16(QByteArray &out, quint16 value)
{
    uchar bytes[2];
    qToLittleEndian(value, bytes);
    out.append(reinterpret_cast<const char *>(bytes), 2);
}

void appendU32(QByteArray &out, quint32 value)
{
    uchar bytes[4];
    qToLittleEndian(value, bytes);
    out.append(reinterpret_cast<const char *>(bytes), 4);
}

quint16 readU16(const uchar *p)
{
    return qFromLittleEndian<quint16>(p);
}

quint32 readU32(const uchar *p)
{
    return qFromLittleEndian<quint32>(p);
}

QString megabytes(quint64 bytes)
{
    return QString::number(double(bytes) / (1024.0 * 1024.0), 'f', 1) + QStringLiteral(" MB");
}

} // namespace

QString errorCodeName(ErrorCode code)
{
    switch (code) {
    case ErrorCode::BadFrame:
        return QStringLiteral("bad_frame");
    case ErrorCode::UndecodableImage:
        return QStringLiteral("undecodable_image");
    case ErrorCode::TooLarge:
        return QStringLiteral("too_large");
    case ErrorCode::Busy:
        return QStringLiteral("busy");
    case ErrorCode::Unauthorized:
        return QStringLiteral("unauthorized");
    case ErrorCode::Internal:
        return QStringLiteral("internal");
    case ErrorCode::UnknownModel:
        return QStringLiteral("unknown_model");
    case ErrorCode::UnsupportedVersion:
        return QStringLiteral("unsupported_version");
    case ErrorCode::Timeout:
        return QStringLiteral("timeout");
    case ErrorCode::BadRequest:
        return QStringLiteral("bad_request");
    case ErrorCode::DeadlineExceeded:
        return QStringLiteral("deadline_exceeded");
    }
    return QStringLiteral("error_%1").arg(quint16(code));
}

QString errorCodeName(quint16 code)
{
    return errorCodeName(ErrorCode(code));
}

bool isKnownMessageType(quint16 type)
{
    switch (MessageType(type)) {
    case MessageType::Detect:
    case MessageType::InfoRequest:
    case MessageType::Ping:
    case MessageType::Auth:
    case MessageType::Result:
    case MessageType::Info:
    case MessageType::Pong:
    case MessageType::AuthOk:
    case MessageType::Error:
        return true;
    }
    return false;
}

QString messageTypeName(MessageType type)
{
    switch (type) {
    case MessageType::Detect:
        return QStringLiteral("detect");
    case MessageType::InfoRequest:
        return QStringLiteral("info_request");
    case MessageType::Ping:
        return QStringLiteral("ping");
    case MessageType::Auth:
        return QStringLiteral("auth");
    case MessageType::Result:
        return QStringLiteral("result");
    case MessageType::Info:
        return QStringLiteral("info");
    case MessageType::Pong:
        return QStringLiteral("pong");
    case MessageType::AuthOk:
        return QStringLiteral("auth_ok");
    case MessageType::Error:
        return QStringLiteral("error");
    }
    return QStringLiteral("0x%1").arg(quint16(type), 4, 16, QLatin1Char('0'));
}

QByteArray encodePreamble(quint16 version)
{
    QByteArray out(kMagic, 4);
    appendU16(out, version);
    appendU16(out, 0);
    return out;
}

QByteArray encodeMessage(const Message &message)
{
    const QByteArray json = QJsonDocument(message.meta).toJson(QJsonDocument::Compact);
    const quint64 bodyLength = 4 + quint64(json.size()) + quint64(message.blob.size());
    Q_ASSERT(bodyLength <= 0xFFFFFFFFu);
    QByteArray out;
    out.reserve(kHeaderSize + qsizetype(bodyLength));
    appendU32(out, quint32(bodyLength));
    appendU16(out, quint16(message.type));
    appendU16(out, 0);
    appendU32(out, message.requestId);
    appendU32(out, quint32(json.size()));
    out.append(json);
    out.append(message.blob);
    return out;
}

QByteArray encodeLegacyFrame(const QByteArray &payload)
{
    QByteArray out;
    out.reserve(4 + payload.size());
    appendU32(out, quint32(payload.size()));
    out.append(payload);
    return out;
}

Message makeError(quint32 requestId, ErrorCode code, const QString &humanMessage)
{
    Message m;
    m.type = MessageType::Error;
    m.requestId = requestId;
    m.meta = {
        {QStringLiteral("code"), int(code)},
        {QStringLiteral("name"), errorCodeName(code)},
        {QStringLiteral("message"), humanMessage},
    };
    return m;
}

Message makeDetect(quint32 requestId, const DetectOptions &options, const QByteArray &image)
{
    return {MessageType::Detect, requestId, toJson(options), image};
}

Message makeResult(quint32 requestId, const DetectionResult &result, const QByteArray &jpeg)
{
    return {MessageType::Result, requestId, toJson(result), jpeg};
}

Message makeInfoRequest(quint32 requestId)
{
    return {MessageType::InfoRequest, requestId, {}, {}};
}

Message makeInfo(quint32 requestId, const QJsonObject &serverInfo)
{
    return {MessageType::Info, requestId, serverInfo, {}};
}

Message makePing(quint32 requestId, const QByteArray &payload)
{
    return {MessageType::Ping, requestId, {}, payload};
}

Message makePong(const Message &ping)
{
    return {MessageType::Pong, ping.requestId, ping.meta, ping.blob};
}

Message makeAuth(quint32 requestId, const QString &token)
{
    return {MessageType::Auth, requestId, {{QStringLiteral("token"), token}}, {}};
}

Message makeAuthOk(quint32 requestId)
{
    return {MessageType::AuthOk, requestId, {}, {}};
}

ErrorInfo errorFromMessage(const Message &message)
{
    ErrorInfo info;
    if (message.type != MessageType::Error) {
        info.name = errorCodeName(info.code);
        info.message = QStringLiteral("expected an error message, got %1").arg(messageTypeName(message.type));
        return info;
    }
    const int code = message.meta.value(QStringLiteral("code")).toInt(int(ErrorCode::BadFrame));
    info.code = ErrorCode(quint16(code));
    info.name = message.meta.value(QStringLiteral("name")).toString();
    // A peer may send "name": "" (fuzzing found one, with the key twice): the code still names it.
    if (info.name.isEmpty())
        info.name = errorCodeName(info.code);
    info.message = message.meta.value(QStringLiteral("message")).toString();
    return info;
}

// ---------------------------------------------------------------------------------------------

FrameReader::FrameReader(Mode mode, quint32 maxFrameBytes)
    : m_mode(mode)
    , m_maxFrameBytes(qMin(maxFrameBytes, kMaxFrameLimit))
{
}

void FrameReader::append(const QByteArray &bytes)
{
    if (!m_errorString.isEmpty())
        return; // a failed stream is never resynchronised, so there is nothing to keep
    if (m_offset > kCompactThreshold && m_offset * 2 > m_buffer.size()) {
        m_buffer.remove(0, m_offset);
        m_offset = 0;
    }
    m_buffer.append(bytes);
}

FrameReader::Mode FrameReader::mode() const
{
    return m_mode;
}

quint16 FrameReader::peerVersion() const
{
    return m_peerVersion;
}

bool FrameReader::preambleSeen() const
{
    return m_preambleSeen;
}

QByteArray FrameReader::takeLegacyPayload()
{
    m_ready = false;
    return std::exchange(m_legacyPayload, QByteArray());
}

Message FrameReader::takeMessage()
{
    m_ready = false;
    return std::exchange(m_message, Message());
}

ErrorCode FrameReader::errorCode() const
{
    return m_errorCode;
}

QString FrameReader::errorString() const
{
    return m_errorString;
}

quint32 FrameReader::errorRequestId() const
{
    return m_errorRequestId;
}

qint64 FrameReader::bufferedBytes() const
{
    return available();
}

bool FrameReader::midFrame() const
{
    return available() > 0;
}

const uchar *FrameReader::data() const
{
    return reinterpret_cast<const uchar *>(m_buffer.constData()) + m_offset;
}

qsizetype FrameReader::available() const
{
    return m_buffer.size() - m_offset;
}

void FrameReader::consume(qsizetype bytes)
{
    m_offset += bytes;
    if (m_offset == m_buffer.size()) {
        m_buffer.clear();
        m_offset = 0;
    }
}

FrameReader::Status FrameReader::fail(ErrorCode code, const QString &message, quint32 requestId)
{
    m_errorCode = code;
    m_errorString = message;
    m_errorRequestId = requestId;
    m_ready = false;
    // Nothing after a framing error can be trusted; drop it so a flood cannot pile up.
    m_buffer.clear();
    m_offset = 0;
    return Status::Error;
}

FrameReader::Status FrameReader::poll()
{
    if (!m_errorString.isEmpty())
        return Status::Error;
    if (m_ready) {
        qCWarning(lcProtocol) << "FrameReader::poll: the previous frame was never taken; dropping it";
        m_ready = false;
        m_legacyPayload.clear();
        m_message = Message();
    }
    if (m_mode == Mode::AutoDetect) {
        if (available() < 4)
            return Status::NeedMore;
        m_mode = std::memcmp(data(), kMagic, 4) == 0 ? Mode::V2 : Mode::Legacy;
    }
    if (m_mode == Mode::Legacy)
        return pollLegacy();
    if (!m_preambleSeen) {
        const Status status = pollPreamble();
        if (status != Status::Ready)
            return status;
    }
    return pollMessage();
}

FrameReader::Status FrameReader::pollLegacy()
{
    if (available() < 4)
        return Status::NeedMore;
    const quint32 length = readU32(data());
    if (length == 0)
        return fail(ErrorCode::BadFrame, QStringLiteral("zero-length image frame"));
    if (length > m_maxFrameBytes) {
        return fail(ErrorCode::TooLarge, QStringLiteral("frame of %1 bytes (%2) exceeds the limit of %3")
                                             .arg(length)
                                             .arg(megabytes(length), megabytes(m_maxFrameBytes)));
    }
    if (available() < 4 + qsizetype(length))
        return Status::NeedMore;
    m_legacyPayload = QByteArray(reinterpret_cast<const char *>(data()) + 4, qsizetype(length));
    consume(4 + qsizetype(length));
    m_ready = true;
    return Status::Ready;
}

FrameReader::Status FrameReader::pollPreamble()
{
    const qsizetype n = qMin<qsizetype>(available(), 4);
    if (std::memcmp(data(), kMagic, size_t(n)) != 0)
        return fail(ErrorCode::BadFrame, QStringLiteral("the stream does not start with the v2 preamble \"ELNS\""));
    if (available() < kPreambleSize)
        return Status::NeedMore;
    const quint16 version = readU16(data() + 4);
    const quint16 flags = readU16(data() + 6);
    if (version == 0)
        return fail(ErrorCode::UnsupportedVersion, QStringLiteral("protocol version 0 in the preamble"));
    if (flags != 0)
        return fail(ErrorCode::BadFrame, QStringLiteral("preamble flags must be 0, got 0x%1").arg(flags, 4, 16, QLatin1Char('0')));
    m_peerVersion = version;
    m_preambleSeen = true;
    consume(kPreambleSize);
    return Status::Ready;
}

FrameReader::Status FrameReader::pollMessage()
{
    if (available() < kHeaderSize)
        return Status::NeedMore;
    const uchar *p = data();
    const quint32 bodyLength = readU32(p);
    const quint16 type = readU16(p + 4);
    const quint16 reserved = readU16(p + 6);
    const quint32 requestId = readU32(p + 8);
    if (reserved != 0) {
        return fail(ErrorCode::BadFrame,
                    QStringLiteral("reserved header field must be 0, got 0x%1").arg(reserved, 4, 16, QLatin1Char('0')),
                    requestId);
    }
    if (bodyLength < 4) {
        return fail(ErrorCode::BadFrame,
                    QStringLiteral("message body of %1 bytes is shorter than its 4-byte JSON length").arg(bodyLength),
                    requestId);
    }
    if (bodyLength > m_maxFrameBytes) {
        return fail(ErrorCode::TooLarge,
                    QStringLiteral("message of %1 bytes (%2) exceeds the limit of %3")
                        .arg(bodyLength)
                        .arg(megabytes(bodyLength), megabytes(m_maxFrameBytes)),
                    requestId);
    }
    if (available() < kHeaderSize + qsizetype(bodyLength))
        return Status::NeedMore;

    const quint32 jsonLength = readU32(p + kHeaderSize);
    if (jsonLength > bodyLength - 4) {
        return fail(ErrorCode::BadFrame,
                    QStringLiteral("JSON length %1 exceeds the %2 bytes left in the message body")
                        .arg(jsonLength)
                        .arg(bodyLength - 4),
                    requestId);
    }
    const char *json = reinterpret_cast<const char *>(p + kHeaderSize + 4);
    Message message;
    message.type = MessageType(type);
    message.requestId = requestId;
    if (jsonLength > 0) {
        QJsonParseError parseError;
        const QJsonDocument doc =
            QJsonDocument::fromJson(QByteArray::fromRawData(json, qsizetype(jsonLength)), &parseError);
        if (parseError.error != QJsonParseError::NoError) {
            return fail(ErrorCode::BadFrame,
                        QStringLiteral("message JSON: %1 at offset %2").arg(parseError.errorString()).arg(parseError.offset),
                        requestId);
        }
        if (!doc.isObject())
            return fail(ErrorCode::BadFrame, QStringLiteral("message JSON must be an object"), requestId);
        message.meta = doc.object();
    }
    const qsizetype blobLength = qsizetype(bodyLength) - 4 - qsizetype(jsonLength);
    message.blob = QByteArray(json + jsonLength, blobLength);
    consume(kHeaderSize + qsizetype(bodyLength));
    m_message = std::move(message);
    m_ready = true;
    return Status::Ready;
}

} // namespace edgelens::protocol

#pragma once

// The EdgeLens wire protocol: the tutorial's legacy framing and the v2 framing, on one port.
// docs/PROTOCOL.md is the normative description; keep the two in step.
//
// Legacy (byte-compatible with the tutorial): u32 LE length + encoded image; the reply is
// u32 LE length + JPEG; one image per connection.
//
// v2: both sides start with an 8-byte preamble: the magic "ELNS" (as a u32 LE length it
// reads 0x534E4C45, far above kMaxFrameLimit, so no legal legacy frame begins with it),
// u16 LE protocol version, u16 LE flags (0). Then messages, each a 12-byte header
// (u32 LE body length, u16 LE type, u16 LE reserved = 0, u32 LE request id) and a body of
// u32 LE JSON length + UTF-8 JSON object + binary blob (the rest of the body, may be empty).

#include "protocol/detection.h"

#include <QByteArray>
#include <QJsonObject>
#include <QString>
#include <QtGlobal>

namespace edgelens::protocol {

inline constexpr quint16 kVersion = 2; // the one protocol version constant
inline constexpr quint16 kDefaultPort = 6000;
inline constexpr char kMagic[4] = {'E', 'L', 'N', 'S'};
inline constexpr quint32 kMagicAsLength = 0x534E4C45u;
inline constexpr int kPreambleSize = 8;
inline constexpr int kHeaderSize = 12;
inline constexpr quint32 kDefaultMaxFrameBytes = 64u * 1024u * 1024u;
inline constexpr quint32 kMaxFrameLimit = 1024u * 1024u * 1024u; // --max-frame-mb upper bound
static_assert(kMagicAsLength > kMaxFrameLimit, "the v2 magic must never be a legal legacy length");

enum class MessageType : quint16 {
    Detect = 0x0001,
    InfoRequest = 0x0002,
    Ping = 0x0003,
    Auth = 0x0004,
    Result = 0x0081,
    Info = 0x0082,
    Pong = 0x0083,
    AuthOk = 0x0084,
    Error = 0x00FF,
};

// Stable codes: clients switch on the number, people read the message.
enum class ErrorCode : quint16 {
    BadFrame = 1,
    UndecodableImage = 2,
    TooLarge = 3,
    Busy = 4,
    Unauthorized = 5,
    Internal = 6,
    UnknownModel = 7,
    UnsupportedVersion = 8,
    Timeout = 9,
    BadRequest = 10, // well-framed, but an option is out of range or the message is not allowed here
    DeadlineExceeded = 11, // the detect's deadline_ms passed before a worker started it; not run
};

QString errorCodeName(ErrorCode code); // "bad_frame", "undecodable_image", ...
bool isKnownMessageType(quint16 type);

struct Message
{
    MessageType type = MessageType::Ping;
    quint32 requestId = 0;
    QJsonObject meta;
    QByteArray blob;
};

QByteArray encodePreamble(quint16 version = kVersion);
QByteArray encodeMessage(const Message &message);
QByteArray encodeLegacyFrame(const QByteArray &payload);

// Convenience constructors for the messages both sides build.
Message makeError(quint32 requestId, ErrorCode code, const QString &humanMessage);
Message makeDetect(quint32 requestId, const DetectOptions &options, const QByteArray &image);
Message makeResult(quint32 requestId, const DetectionResult &result, const QByteArray &jpeg);
Message makeInfoRequest(quint32 requestId);
Message makeInfo(quint32 requestId, const QJsonObject &serverInfo);
Message makePing(quint32 requestId, const QByteArray &payload = {});
Message makePong(const Message &ping); // echoes the ping's id, meta and blob
Message makeAuth(quint32 requestId, const QString &token);
Message makeAuthOk(quint32 requestId);

// The fields of an Error message; code is BadFrame when the message is not a valid Error.
struct ErrorInfo
{
    ErrorCode code = ErrorCode::BadFrame;
    QString name;    // errorCodeName(code), as sent
    QString message; // human-readable
};
ErrorInfo errorFromMessage(const Message &message);

QString messageTypeName(MessageType type); // "detect", "result", ...; "0x0042" when unknown
QString errorCodeName(quint16 code);        // like the enum overload; "error_42" when unknown

// Incremental parser for one direction of one connection. Feed it whatever the socket
// delivered; it never allocates more than the bytes it was given (a claimed length is only
// checked, never reserved), so a frame split at any byte or several frames in one read
// parse the same.
class FrameReader final
{
    Q_DISABLE_COPY_MOVE(FrameReader) // a copy of a half-read stream would parse it twice

public:
    enum class Mode {
        AutoDetect, // server side: the first 4 bytes choose legacy or v2
        Legacy,     // a legacy frame: u32 LE length + payload
        V2,         // preamble, then messages
    };
    enum class Status { NeedMore, Ready, Error };

    explicit FrameReader(Mode mode, quint32 maxFrameBytes = kDefaultMaxFrameBytes);

    void append(const QByteArray &bytes);
    Status poll(); // call until NeedMore or Error; each Ready leaves one frame to take

    Mode mode() const;                  // Legacy or V2 once AutoDetect has seen 4 bytes
    quint16 peerVersion() const;        // from the v2 preamble, 0 before it
    bool preambleSeen() const;
    QByteArray takeLegacyPayload();     // after Ready in Legacy mode
    Message takeMessage();              // after Ready in V2 mode
    ErrorCode errorCode() const;
    QString errorString() const;
    quint32 errorRequestId() const;     // id of the v2 message that failed, 0 when none was read
    qint64 bufferedBytes() const;       // received but not yet returned as a frame
    bool midFrame() const;              // part of a frame is buffered (for idle/truncation checks)

private:
    Mode m_mode;
    quint32 m_maxFrameBytes;
    QByteArray m_buffer;
    bool m_preambleSeen = false;
    quint16 m_peerVersion = 0;
    bool m_ready = false;
    QByteArray m_legacyPayload;
    Message m_message;
    ErrorCode m_errorCode = ErrorCode::BadFrame;
    QString m_errorString;
    quint32 m_errorRequestId = 0;
    qsizetype m_offset = 0; // consumed bytes at the front of m_buffer, dropped lazily

    Status fail(ErrorCode code, const QString &message, quint32 requestId = 0);
    void consume(qsizetype bytes);
    const uchar *data() const;
    qsizetype available() const;
    Status pollLegacy();
    Status pollPreamble();
    Status pollMessage();
};

} // namespace edgelens::protocol

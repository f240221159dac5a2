#pragma once

#include "metrics/servermetrics.h"
#include "net/auththrottle.h"
#include "protocol/detection.h"
#include "protocol/protocol.h"

#include <QHash>
#include <QHostAddress>
#include <QJsonObject>
#include <QObject>

#include <functional>
#include <optional>

namespace edgelens {

class DetectionEngine;
struct ServerConfig;

// One detection request, whatever protocol carried it.
struct DetectRequest
{
    QByteArray image;   // encoded (JPEG, PNG, ...)
    QJsonObject options; // v2's detect options (docs/PROTOCOL.md); absent keys: the defaults
    bool legacy = false; // the tutorial's protocol: default model, server confidence, always a JPEG
    ServerMetrics::Protocol protocol = ServerMetrics::Protocol::V2; // legacy implies Legacy
};

// What a request came to: a result, or an error every protocol can express (HTTP maps the
// codes to statuses, v2 sends them as they are, legacy can only close).
struct DetectReply
{
    bool ok = false;
    protocol::ErrorCode code = protocol::ErrorCode::Internal;
    QString message;     // why, for people, when !ok
    DetectionResult result;
    QByteArray jpeg;     // the marked-up image when asked for (always for legacy)
    QString model;       // the model that ran (or would have)
    qint64 requestBytes = 0;
    double wallMs = 0;   // admission to completion
};

// The protocol-neutral heart of the server, between the sessions (legacy, v2, HTTP) and the
// DetectionEngine: validates a request (options, the image header, pixel limits), admits it
// (per-session in-flight limit, the engine's bounded queue: `busy` above either), submits it
// and maps the engine's outcome to a DetectReply. A session opens a SessionId and closes it
// when its client goes away, which cancels that client's queued work and drops the answers
// of what is still running. Token checks live here too, so every protocol counts failures
// alike. Lives in the server's thread; callbacks run there.
class DetectionService final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DetectionService)

public:
    using SessionId = quint64;
    using Callback = std::function<void(const DetectReply &)>;

    DetectionService(DetectionEngine *engine, const ServerConfig *config, const QJsonObject &serverInfo,
                     QObject *parent = nullptr);
    ~DetectionService() override;

    // Admitted connections of every listener, for the server-wide connection limit.
    void connectionOpened() { ++m_connections; }
    void connectionClosed() { --m_connections; }
    int connectionCount() const { return m_connections; }

    SessionId openSession(const QString &peer);
    void closeSession(SessionId session); // cancels its queued work; no callback runs after this
    int sessionCount() const { return int(m_sessions.size()); }
    int inFlight(SessionId session) const; // admitted and not yet answered
    int inFlightTotal() const;

    // Validates and admits the request. Rejected: returns the reply at once and `done` never
    // runs. Admitted: nullopt, and `done` runs later in this object's thread with the outcome,
    // unless the session was closed (or the server stopped) before.
    std::optional<DetectReply> submit(SessionId session, DetectRequest request, Callback done);

    bool tokenRequired() const;
    enum class AuthResult { Ok, WrongToken, Throttled };
    // Checks a token offered by `client` (constant-time comparison) and counts a wrong one
    // against the address; a throttled address is refused without looking at the token.
    // *why says what to tell the client.
    AuthResult authenticate(const QHostAddress &client, const QString &offered, QString *why);
    // For protocols that check their own credentials (HTTP api keys): one more failure.
    void recordAuthFailure(const QHostAddress &client);
    // Whether connections from `client` are refused for now (too many failed authentications).
    bool isThrottled(const QHostAddress &client, QString *why);
    AuthThrottle &authThrottle() { return m_authThrottle; }

    QJsonObject serverInfo() const { return m_serverInfo; }
    const ServerConfig &config() const { return *m_config; }
    DetectionEngine *engine() const { return m_engine; }
    // What GET /metrics shows; every protocol's sessions report here.
    ServerMetrics *metrics() { return &m_metrics; }

    // Stops every session's work: drops queued jobs and pending callbacks.
    void cancelAll();

signals:
    void idle(); // the last in-flight request of any session was answered

private:
    struct Session
    {
        QString peer;
        int inFlight = 0;
        // Of its counted requests (legacy or v2; HTTP counts its own), for those it leaves queued.
        std::optional<ServerMetrics::Protocol> protocol;
    };

    // Queued requests dropped unanswered still end in the metrics, or in-flight never drops.
    void countCancelled(const Session &session, int dropped);

    std::optional<DetectReply> validate(const DetectRequest &request, int *modelIndex, DetectOptions *options) const;

    DetectionEngine *m_engine;
    const ServerConfig *m_config;
    QJsonObject m_serverInfo;
    AuthThrottle m_authThrottle;
    QHash<SessionId, Session> m_sessions;
    SessionId m_nextSession = 1;
    int m_connections = 0;
    ServerMetrics m_metrics;
    quint64 m_generation = 0; // bumped by cancelAll(): answers from before it are dropped
};

} // namespace edgelens

#include "servermetrics.h"

namespace edgelens {

namespace {

// Latencies from sub-millisecond answers (health checks, refusals) to slow CPU models.
const QList<double> kSecondsBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

const QString kConnectionsTotal = QStringLiteral("edgelens_connections_total");
const QString kOpenConnections = QStringLiteral("edgelens_open_connections");
const QString kRequestsTotal = QStringLiteral("edgelens_requests_total");
const QString kRequestErrors = QStringLiteral("edgelens_request_errors_total");
const QString kInFlight = QStringLiteral("edgelens_requests_in_flight");
const QString kRequestDuration = QStringLiteral("edgelens_request_duration_seconds");
const QString kInferenceDuration = QStringLiteral("edgelens_inference_duration_seconds");
const QString kReceivedBytes = QStringLiteral("edgelens_received_bytes_total");
const QString kSentBytes = QStringLiteral("edgelens_sent_bytes_total");
const QString kAuthFailures = QStringLiteral("edgelens_auth_failures_total");
const QString kDeadlineExpired = QStringLiteral("edgelens_deadline_expired_total");
const QString kQueueDepth = QStringLiteral("edgelens_queue_depth");
const QString kWorkers = QStringLiteral("edgelens_workers");
const QString kModelInfo = QStringLiteral("edgelens_model_info");
const QString kReady = QStringLiteral("edgelens_ready");

MetricLabels protocolLabel(ServerMetrics::Protocol protocol)
{
    return {{QStringLiteral("protocol"), ServerMetrics::protocolName(protocol)}};
}

} // namespace

ServerMetrics::ServerMetrics()
{
    using Type = MetricsRegistry::Type;
    m_registry.declare(kConnectionsTotal, Type::Counter, QStringLiteral("Connections accepted, by protocol."));
    m_registry.declare(kOpenConnections, Type::Gauge, QStringLiteral("Connections open now, by protocol."));
    m_registry.declare(kRequestsTotal, Type::Counter,
                       QStringLiteral("Requests answered, by protocol and outcome (ok or error)."));
    m_registry.declare(kRequestErrors, Type::Counter, QStringLiteral("Requests answered with an error, by protocol and error code."));
    m_registry.declare(kInFlight, Type::Gauge, QStringLiteral("Requests received and not answered yet, by protocol."));
    m_registry.declare(kRequestDuration, Type::Histogram,
                       QStringLiteral("Time from a complete request to its answer, by protocol."), kSecondsBuckets);
    m_registry.declare(kInferenceDuration, Type::Histogram,
                       QStringLiteral("Network forward time of one image, by model."), kSecondsBuckets);
    m_registry.declare(kReceivedBytes, Type::Counter, QStringLiteral("Bytes received from clients, by protocol."));
    m_registry.declare(kSentBytes, Type::Counter, QStringLiteral("Bytes sent to clients, by protocol."));
    m_registry.declare(kAuthFailures, Type::Counter, QStringLiteral("Requests refused for a missing or wrong token, by protocol."));
    m_registry.declare(kDeadlineExpired, Type::Counter,
                       QStringLiteral("Requests dropped unrun because their deadline passed while they waited for a worker, by protocol."));
    m_registry.declare(kQueueDepth, Type::Gauge, QStringLiteral("Images waiting for a free worker."));
    m_registry.declare(kWorkers, Type::Gauge, QStringLiteral("Inference worker threads."));
    m_registry.declare(kModelInfo, Type::Gauge, QStringLiteral("Served models (value 1), with family, backend and whether it is the default."));
    m_registry.declare(kReady, Type::Gauge, QStringLiteral("1 while models are loaded and the server accepts work, else 0."));
    m_registry.set(kQueueDepth, {}, 0);
    m_registry.set(kReady, {}, 0);
    for (const Protocol p : {Protocol::Legacy, Protocol::V2, Protocol::Http}) {
        // Present from the start, so a rate() over the first request is right.
        m_registry.add(kConnectionsTotal, protocolLabel(p), 0);
        m_registry.set(kOpenConnections, protocolLabel(p), 0);
        m_registry.set(kInFlight, protocolLabel(p), 0);
        for (const char *outcome : {"ok", "error"})
            m_registry.add(kRequestsTotal, protocolLabel(p) << qMakePair(QStringLiteral("outcome"), QString::fromLatin1(outcome)), 0);
        m_registry.add(kReceivedBytes, protocolLabel(p), 0);
        m_registry.add(kSentBytes, protocolLabel(p), 0);
        m_registry.add(kAuthFailures, protocolLabel(p), 0);
        m_registry.add(kDeadlineExpired, protocolLabel(p), 0);
    }
}

QString ServerMetrics::protocolName(Protocol protocol)
{
    switch (protocol) {
    case Protocol::Legacy: return QStringLiteral("legacy");
    case Protocol::V2: return QStringLiteral("v2");
    case Protocol::Http: return QStringLiteral("http");
    }
    return QStringLiteral("unknown");
}

void ServerMetrics::connectionOpened(Protocol protocol)
{
    m_registry.add(kConnectionsTotal, protocolLabel(protocol));
    m_registry.add(kOpenConnections, protocolLabel(protocol), 1);
}

void ServerMetrics::connectionClosed(Protocol protocol)
{
    m_registry.add(kOpenConnections, protocolLabel(protocol), -1);
}

void ServerMetrics::bytesReceived(Protocol protocol, qint64 bytes)
{
    if (bytes > 0)
        m_registry.add(kReceivedBytes, protocolLabel(protocol), double(bytes));
}

void ServerMetrics::bytesSent(Protocol protocol, qint64 bytes)
{
    if (bytes > 0)
        m_registry.add(kSentBytes, protocolLabel(protocol), double(bytes));
}

void ServerMetrics::authFailed(Protocol protocol)
{
    m_registry.add(kAuthFailures, protocolLabel(protocol));
}

void ServerMetrics::deadlineExpired(Protocol protocol)
{
    m_registry.add(kDeadlineExpired, protocolLabel(protocol));
}

void ServerMetrics::requestStarted(Protocol protocol)
{
    m_registry.add(kInFlight, protocolLabel(protocol), 1);
}

void ServerMetrics::requestFinished(Protocol protocol, double seconds, const QString &errorCode)
{
    const MetricLabels labels = protocolLabel(protocol);
    m_registry.add(kInFlight, labels, -1);
    m_registry.observe(kRequestDuration, labels, seconds);
    const bool ok = errorCode.isEmpty();
    m_registry.add(kRequestsTotal, MetricLabels(labels) << qMakePair(QStringLiteral("outcome"), ok ? QStringLiteral("ok") : QStringLiteral("error")));
    if (!ok)
        m_registry.add(kRequestErrors, MetricLabels(labels) << qMakePair(QStringLiteral("code"), errorCode));
}

void ServerMetrics::inferenceObserved(const QString &model, double seconds)
{
    m_registry.observe(kInferenceDuration, {{QStringLiteral("model"), model}}, seconds);
}

void ServerMetrics::setQueueDepth(int jobs)
{
    m_registry.set(kQueueDepth, {}, double(jobs));
}

void ServerMetrics::setModels(const QList<ModelInfo> &models, int workers)
{
    m_registry.clear(kModelInfo);
    for (const ModelInfo &m : models) {
        m_registry.set(kModelInfo,
                       {{QStringLiteral("model"), m.name},
                        {QStringLiteral("family"), m.family},
                        {QStringLiteral("backend"), m.backend},
                        {QStringLiteral("default"), m.isDefault ? QStringLiteral("true") : QStringLiteral("false")}},
                       1);
    }
    m_registry.set(kWorkers, {}, workers);
}

void ServerMetrics::setReady(bool ready)
{
    m_registry.set(kReady, {}, ready ? 1 : 0);
}

double ServerMetrics::requestCount(Protocol protocol) const
{
    double total = 0;
    for (const char *outcome : {"ok", "error"})
        total += m_registry.value(kRequestsTotal, protocolLabel(protocol) << qMakePair(QStringLiteral("outcome"), QString::fromLatin1(outcome)));
    return total;
}

QByteArray ServerMetrics::exposition() const
{
    return m_registry.exposition();
}

} // namespace edgelens

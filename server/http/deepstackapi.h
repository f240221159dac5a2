#pragma once

#include "http/deepstackrequest.h"

#include <QByteArray>
#include <QString>

namespace edgelens {

class DetectionService;
class HttpConnection;
class HttpListener;
class ServerMetrics;
struct HttpRequest;
struct HttpResponse;

// What the HTTP port answers (docs/HTTP.md): DeepStack's and CodeProject.AI Server's vision
// API (POST /v1/vision/detection, /v1/vision/custom/<model>, /v1/vision/custom/list), their
// status calls (GET /, /v1/status/updateavailable), and for operators GET /metrics, /healthz
// and /readyz. Detection requests go straight to the DetectionService like any other
// protocol's: no queue of its own (Frigate waits 0.1 s by default). Answers through the
// request's HttpConnection, at once or when the service's answer comes back.
class DeepStackApi final
{
    Q_DISABLE_COPY_MOVE(DeepStackApi)

public:
    DeepStackApi(DetectionService *service, HttpListener *listener);

    void handle(HttpConnection *connection, HttpRequest &&request);

private:
    void detect(HttpConnection *connection, HttpRequest &&request, const QString &model);
    void listModels(HttpConnection *connection, const HttpRequest &request);
    // False (and the 401 or 429 answered) when a token is required and the request lacks it.
    bool authorize(HttpConnection *connection, const DeepStackRequest &form);
    void answerError(HttpConnection *connection, int status, const QString &message, const QString &errorCode,
                     int retryAfterSeconds = 0);
    QByteArray statusPage() const;

    DetectionService *m_service;
    ServerMetrics *m_metrics;
    HttpListener *m_listener;
};

} // namespace edgelens

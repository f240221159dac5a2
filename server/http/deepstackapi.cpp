#include "deepstackapi.h"

#include "http/deepstackanswer.h"
#include "http/httpconnection.h"
#include "http/httplistener.h"
#include "http/httprequest.h"
#include "http/httpresponse.h"
#include "metrics/servermetrics.h"
#include "net/detectionengine.h"
#include "net/detectionservice.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QPointer>
#include <QUrl>
#include <QUuid>

namespace edgelens {

using protocol::ErrorCode;
using Protocol = ServerMetrics::Protocol;

namespace {

int httpStatus(ErrorCode code)
{
    switch (code) {
    case ErrorCode::BadFrame:
    case ErrorCode::BadRequest:
    case ErrorCode::UndecodableImage:
    case ErrorCode::UnsupportedVersion: return 400;
    case ErrorCode::Unauthorized: return 401;
    case ErrorCode::UnknownModel: return 404;
    case ErrorCode::Timeout: return 408;
    case ErrorCode::DeadlineExceeded: return 504;
    case ErrorCode::TooLarge: return 413;
    case ErrorCode::Busy: return 503;
    case ErrorCode::Internal: return 500;
    }
    return 500;
}

// How long a busy client is told to wait before it tries again.
constexpr int kBusyRetryAfterSeconds = 1;

HttpResponse jsonResponse(const QJsonObject &object, int status)
{
    HttpResponse response;
    response.status = status;
    response.body = QJsonDocument(object).toJson(QJsonDocument::Compact);
    return response;
}

HttpResponse textResponse(const QByteArray &body, const QByteArray &contentType)
{
    HttpResponse response;
    response.contentType = contentType;
    response.body = body;
    return response;
}

QString inferenceDevice(const QString &backend)
{
    return backend.compare(QLatin1String("cuda"), Qt::CaseInsensitive) == 0 ? QStringLiteral("GPU") : QStringLiteral("CPU");
}

} // namespace

DeepStackApi::DeepStackApi(DetectionService *service, HttpListener *listener)
    : m_service(service)
    , m_metrics(service->metrics())
    , m_listener(listener)
{
}

void DeepStackApi::handle(HttpConnection *connection, HttpRequest &&request)
{
    const QByteArray path = request.path();
    const bool get = request.method == "GET" || request.method == "HEAD";
    const bool post = request.method == "POST";
    static const QByteArray kCustom = "/v1/vision/custom/";
    if (path == "/v1/vision/detection" && post) {
        detect(connection, std::move(request), QString());
    } else if (path == "/v1/vision/custom/list" && post) {
        listModels(connection, request);
    } else if (path.startsWith(kCustom) && path.size() > kCustom.size() && post) {
        const QString model = QUrl::fromPercentEncoding(path.mid(kCustom.size()));
        detect(connection, std::move(request), model);
    } else if (path == "/" && get) {
        connection->respond(textResponse(statusPage(), "text/html; charset=utf-8"));
    } else if (path == "/healthz" && get) {
        connection->respond(textResponse("ok\n", "text/plain; charset=utf-8"));
    } else if (path == "/readyz" && get) {
        const bool ready = m_listener->isReady();
        connection->respond(jsonResponse({{QStringLiteral("ready"), ready},
                                          {QStringLiteral("models"), QJsonArray::fromStringList(m_service->engine()->modelNames())}},
                                         ready ? 200 : 503));
    } else if (path == "/metrics" && get) {
        m_metrics->setReady(m_listener->isReady());
        connection->respond(textResponse(m_metrics->exposition(), "text/plain; version=0.0.4; charset=utf-8"));
    } else if (path == "/v1/status/updateavailable" && get) {
        connection->respond(jsonResponse(DeepStackAnswer::updateAvailable(QStringLiteral(EDGELENS_VERSION)), 200));
    } else {
        connection->respond(jsonResponse(DeepStackAnswer::error(404,
                                                                QStringLiteral("no such endpoint: %1 %2")
                                                                    .arg(QString::fromLatin1(request.method),
                                                                         QString::fromLatin1(path.left(200))),
                                                                0),
                                         404));
    }
}

void DeepStackApi::answerError(HttpConnection *connection, int status, const QString &message, const QString &errorCode,
                               int retryAfterSeconds)
{
    const double ms = connection->requestElapsedMs();
    HttpResponse response = jsonResponse(DeepStackAnswer::error(status, message, ms), status);
    response.retryAfterSeconds = retryAfterSeconds;
    m_metrics->requestFinished(Protocol::Http, ms / 1000.0, errorCode);
    connection->respond(response);
}

bool DeepStackApi::authorize(HttpConnection *connection, const DeepStackRequest &form)
{
    if (!m_service->tokenRequired())
        return true;
    QString why;
    const DetectionService::AuthResult result = m_service->authenticate(connection->requestClient(), form.apiKey(), &why);
    if (result == DetectionService::AuthResult::Ok)
        return true;
    m_metrics->authFailed(Protocol::Http);
    if (result == DetectionService::AuthResult::Throttled) {
        qint64 retryAfterMs = 0;
        m_service->authThrottle().isBlocked(connection->requestClient(), &retryAfterMs);
        answerError(connection, 429, why, errorCodeName(ErrorCode::Unauthorized), int(qMax<qint64>(1, (retryAfterMs + 999) / 1000)));
        return false;
    }
    why = form.hasApiKey() ? QStringLiteral("wrong api_key")
                           : QStringLiteral("this server requires an api_key (form field or Authorization: Bearer)");
    answerError(connection, 401, why, errorCodeName(ErrorCode::Unauthorized));
    return false;
}

void DeepStackApi::detect(HttpConnection *connection, HttpRequest &&request, const QString &model)
{
    m_metrics->requestStarted(Protocol::Http);
    connection->markCounted();
    DeepStackRequest form = DeepStackRequest::fromHttp(request.header("content-type"), request.body,
                                                       request.header("authorization"));
    request.body = QByteArray(); // the form holds what is needed; the body's memory goes now
    if (!authorize(connection, form))
        return;
    QString error;
    if (!form.validateForDetection(&error)) {
        answerError(connection, 400, error, errorCodeName(ErrorCode::BadRequest));
        return;
    }
    DetectionEngine *engine = m_service->engine();
    const int modelIndex = engine->modelIndex(model);
    if (modelIndex < 0) {
        answerError(connection, 404,
                    QStringLiteral("no model named \"%1\"; this server has: %2")
                        .arg(model, engine->modelNames().join(QStringLiteral(", "))),
                    errorCodeName(ErrorCode::UnknownModel));
        return;
    }

    DetectRequest detectRequest;
    detectRequest.protocol = Protocol::Http;
    detectRequest.image = form.image();
    detectRequest.options = {{QStringLiteral("confidence"), double(form.minConfidence())},
                             {QStringLiteral("model"), engine->model(modelIndex).name},
                             {QStringLiteral("return_image"), false}};
    const float minConfidence = form.minConfidence();
    const QString command = model.isEmpty() ? QStringLiteral("detect") : QStringLiteral("custom");
    const QString device = inferenceDevice(engine->backend(modelIndex));
    form = DeepStackRequest(); // the image lives on in the request alone
    // The connection may close before the answer: then its session is closed and this never runs.
    QPointer<HttpConnection> target = connection;
    auto done = [this, target, minConfidence, command, device](const DetectReply &reply) {
        if (!target)
            return;
        const double ms = target->requestElapsedMs();
        m_metrics->requestFinished(Protocol::Http, ms / 1000.0, reply.ok ? QString() : errorCodeName(reply.code));
        if (!reply.ok) {
            const int status = httpStatus(reply.code);
            HttpResponse response = jsonResponse(DeepStackAnswer::error(status, reply.message, ms), status);
            if (status == 503)
                response.retryAfterSeconds = kBusyRetryAfterSeconds;
            target->respond(response);
            return;
        }
        DeepStackAnswer::Timing timing;
        const StageTimings &t = reply.result.timings;
        timing.inferenceMs = t.inferenceMs;
        timing.processMs = t.decodeMs + t.inferenceMs + t.markupMs + t.encodeMs;
        timing.roundTripMs = ms;
        target->respond(jsonResponse(DeepStackAnswer::detection(reply.result, minConfidence, command,
                                                                QUuid::createUuid().toString(QUuid::WithoutBraces),
                                                                device, timing),
                                     200));
    };
    const std::optional<DetectReply> rejected = m_service->submit(connection->session(), std::move(detectRequest), done);
    if (rejected)
        done(*rejected);
}

void DeepStackApi::listModels(HttpConnection *connection, const HttpRequest &request)
{
    m_metrics->requestStarted(Protocol::Http);
    connection->markCounted();
    const DeepStackRequest form = DeepStackRequest::fromHttp(request.header("content-type"), request.body,
                                                             request.header("authorization"));
    if (!authorize(connection, form))
        return;
    m_metrics->requestFinished(Protocol::Http, connection->requestElapsedMs() / 1000.0);
    connection->respond(jsonResponse(DeepStackAnswer::modelList(m_service->engine()->modelNames()), 200));
}

QByteArray DeepStackApi::statusPage() const
{
    const QStringList models = m_service->engine()->modelNames();
    const QString html = QStringLiteral(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>EdgeLens server</title></head><body>\n"
        "<h1>EdgeLens server %1</h1>\n<p>%2</p>\n<p>Models: %3</p>\n"
        "<p>DeepStack / CodeProject.AI API: <code>POST /v1/vision/detection</code>, "
        "<code>POST /v1/vision/custom/&lt;model&gt;</code>, <code>POST /v1/vision/custom/list</code>. "
        "Operators: <a href=\"/metrics\">/metrics</a>, <a href=\"/healthz\">/healthz</a>, "
        "<a href=\"/readyz\">/readyz</a>.</p>\n</body></html>\n")
                             .arg(QStringLiteral(EDGELENS_VERSION),
                                  m_listener->isReady() ? QStringLiteral("Ready.") : QStringLiteral("Not ready."),
                                  models.join(QStringLiteral(", ")).toHtmlEscaped());
    return html.toUtf8();
}

} // namespace edgelens

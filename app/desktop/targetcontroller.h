#pragma once

// Which detectors the processing queue sends to, and getting them ready: the embedded server
// (started on demand with the chosen model, restarted when the model changes) or the remote
// devices of the settings (host, port, protocol, TLS, enabled), handed to the client as one
// pool, with the embedded server as one more member when it joins. Also carries the
// processing settings (thresholds, output, timeout, requests in flight, token) over to the
// queue and client. Nothing here waits: the client reconnects asynchronously and the
// embedded server starts and stops on its own thread.

#include "widgets/appsettings.h"

#include "client/devicespec.h"

#include <QList>
#include <QObject>

namespace edgelens {

class DetectionClient;
class EmbeddedServer;
class GalleryModel;
class ProcessingQueue;
class StatusPresenter;
class TokenStore;

class TargetController final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TargetController)

public:
    TargetController(GalleryModel *model, ProcessingQueue *queue, DetectionClient *client, EmbeddedServer *embedded,
                     StatusPresenter *status, QObject *parent = nullptr);

    // True when switching from a to b means talking to another detector (what the user is
    // asked about while images are on their way).
    static bool targetDiffers(const AppSettings &a, const AppSettings &b);

    const AppSettings &settings() const { return m_settings; }
    // Applies everything; reconnects or restarts only when the target itself changed. The
    // first call always sets the target up.
    void apply(const AppSettings &settings);
    // Before sending (Retry Failed, Process Again): the embedded server is started (or
    // restarted with the chosen model), and refused devices are tried again.
    void ensureReady();
    // The token the devices get: read from the keyring on construction, then whatever the
    // settings dialog chose.
    QString token() const { return m_token; }
    // What the client is given for these settings: the enabled and disabled remote devices,
    // then the embedded server when it is used and running.
    QList<DeviceSpec> deviceSpecs() const;

signals:
    void tokenChanged(const QString &token);

private:
    void applyTarget();
    void pushDevices();
    bool embeddedUsed() const;
    void startEmbedded();
    void setToken(const QString &token);

    GalleryModel *m_model;
    ProcessingQueue *m_queue;
    DetectionClient *m_client;
    EmbeddedServer *m_embedded;
    StatusPresenter *m_status;
    AppSettings m_settings;
    bool m_applied = false;
    TokenStore *m_tokenStore = nullptr;
    QString m_token;
    bool m_tokenChosen = false; // a dialog's choice arrived before the keyring answered
};

} // namespace edgelens

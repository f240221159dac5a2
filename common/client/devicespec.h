#pragma once

// One device of a target: where it is and how to talk to it. A target is a list of these; the
// app stores them in its settings and the CLI builds them from repeated --host options.

#include "protocol/protocol.h"

#include <QList>
#include <QMetaType>
#include <QObject>
#include <QString>

#include <optional>

namespace edgelens {

class DeviceSpec
{
    Q_GADGET

public:
    // DeepStack: the HTTP API of DeepStack and CodeProject.AI Server (never chosen by Auto).
    enum class Protocol { Auto, V2, Legacy, DeepStack };
    Q_ENUM(Protocol)

    QString host = QStringLiteral("127.0.0.1");
    quint16 port = protocol::kDefaultPort;
    Protocol protocol = Protocol::Auto;
    bool tls = false;
    bool enabled = true;
    // "sha256:HEX" (colons between pairs allowed): only this certificate is accepted. Empty:
    // a certificate that verifies for the host name, or the one remembered on first use.
    QString tlsFingerprint;
    // How results name the device when its address is no name: the embedded server listens on
    // a new ephemeral port every run, so its results say embeddedLabel(). Empty: name().
    QString label;

    // "host:port", "[v6addr]:port": how logs, summaries and known devices name the device.
    QString name() const;
    // What ClientResult::device and the JSON sidecars' `device` say: the label, else name().
    QString resultName() const;
    // name() in lower case: the key for everything remembered per device.
    QString key() const;

    // "host", "host:port", "[v6addr]", "[v6addr]:port" or a bare IPv6 address (default port).
    static std::optional<DeviceSpec> parse(const QString &text, quint16 defaultPort, QString *error = nullptr);

    // "embedded": the stable name of the app's or CLI's own in-process server in results. No
    // address is named so (an address always has ":port"), so it cannot mean a remote device.
    static QString embeddedLabel();

    friend bool operator==(const DeviceSpec &a, const DeviceSpec &b)
    {
        return a.host == b.host && a.port == b.port && a.protocol == b.protocol && a.tls == b.tls
            && a.enabled == b.enabled && a.tlsFingerprint == b.tlsFingerprint && a.label == b.label;
    }
    friend bool operator!=(const DeviceSpec &a, const DeviceSpec &b) { return !(a == b); }
};

// What the pool knows about one device right now (for status bars, summaries, settings).
struct DeviceStatus
{
    enum class State {
        Disabled,   // enabled == false
        Idle,       // nothing open and nothing known to be wrong
        Connecting, // connecting, negotiating or probing after a failure
        Up,         // answered; takes work
        Down,       // failed (refused, dropped, timed out); probed again with backoff
        Refused,    // refused the session (token, certificate): not used until settings change
    };

    DeviceSpec device;
    State state = State::Idle;
    DeviceSpec::Protocol protocol = DeviceSpec::Protocol::Auto; // resolved once known
    int inFlight = 0;
    int done = 0;              // results delivered
    int failed = 0;            // requests that ended failed on this device
    int timesDown = 0;         // transitions to Down
    double imagesPerSecond = 0; // measured service rate; 0 until measured
    QString lastError;

    static QString stateName(State state); // "up", "down", ...
};

} // namespace edgelens

Q_DECLARE_METATYPE(edgelens::DeviceSpec)
Q_DECLARE_METATYPE(edgelens::DeviceStatus)

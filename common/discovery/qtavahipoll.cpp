#include "discovery/qtavahipoll.h"

#include <QLoggingCategory>
#include <QSocketNotifier>
#include <QTimer>

#include <avahi-common/timeval.h>

#include <limits>

Q_LOGGING_CATEGORY(lcAvahiPoll, "edgelens.discovery.poll")

// Avahi declares these two opaque; the poll implementation defines them.
struct AvahiWatch
{
    int fd = -1;
    AvahiWatchEvent wanted = AvahiWatchEvent(0);
    int happened = 0;
    AvahiWatchCallback callback = nullptr;
    void *userdata = nullptr;
    QSocketNotifier *in = nullptr;
    QSocketNotifier *out = nullptr;
    // Avahi may free a watch from inside its own callback: then it goes after the callback.
    bool inCallback = false;
    bool freed = false;
};

struct AvahiTimeout
{
    QTimer *timer = nullptr;
    AvahiTimeoutCallback callback = nullptr;
    void *userdata = nullptr;
    bool inCallback = false;
    bool freed = false;
};

namespace edgelens {

namespace {

// Deleted at once unless its own signal may be running (inside the watch's callback): a
// deleteLater() posted after the last event loop ran would never happen.
void dropObject(QObject *object, bool inCallback)
{
    if (inCallback)
        object->deleteLater();
    else
        delete object;
}

void dropNotifier(QSocketNotifier *&notifier, bool inCallback)
{
    if (!notifier)
        return;
    notifier->setEnabled(false);
    dropObject(notifier, inCallback);
    notifier = nullptr;
}

void fireWatch(AvahiWatch *watch, AvahiWatchEvent event)
{
    watch->happened = event;
    watch->inCallback = true;
    watch->callback(watch, watch->fd, event, watch->userdata);
    watch->inCallback = false;
    if (watch->freed)
        delete watch;
    else
        watch->happened = 0;
}

void watchUpdate(AvahiWatch *watch, AvahiWatchEvent event)
{
    watch->wanted = event;
    // Qt reports POLLHUP and POLLERR as readable, so IN also covers ERR and HUP.
    const bool wantIn = event & (AVAHI_WATCH_IN | AVAHI_WATCH_ERR | AVAHI_WATCH_HUP);
    const bool wantOut = event & AVAHI_WATCH_OUT;
    if (wantIn && !watch->in) {
        watch->in = new QSocketNotifier(watch->fd, QSocketNotifier::Read);
        QObject::connect(watch->in, &QSocketNotifier::activated, watch->in,
                         [watch] { fireWatch(watch, AVAHI_WATCH_IN); });
    } else if (!wantIn) {
        dropNotifier(watch->in, watch->inCallback);
    }
    if (wantOut && !watch->out) {
        watch->out = new QSocketNotifier(watch->fd, QSocketNotifier::Write);
        QObject::connect(watch->out, &QSocketNotifier::activated, watch->out,
                         [watch] { fireWatch(watch, AVAHI_WATCH_OUT); });
    } else if (!wantOut) {
        dropNotifier(watch->out, watch->inCallback);
    }
}

AvahiWatch *watchNew(const AvahiPoll *, int fd, AvahiWatchEvent event, AvahiWatchCallback callback, void *userdata)
{
    auto *watch = new AvahiWatch;
    watch->fd = fd;
    watch->callback = callback;
    watch->userdata = userdata;
    watchUpdate(watch, event);
    return watch;
}

AvahiWatchEvent watchGetEvents(AvahiWatch *watch)
{
    return AvahiWatchEvent(watch->happened);
}

void watchFree(AvahiWatch *watch)
{
    dropNotifier(watch->in, watch->inCallback);
    dropNotifier(watch->out, watch->inCallback);
    if (watch->inCallback)
        watch->freed = true;
    else
        delete watch;
}

void timeoutUpdate(AvahiTimeout *timeout, const struct timeval *tv)
{
    if (!tv) {
        timeout->timer->stop();
        return;
    }
    // avahi_age: microseconds since *tv, negative while it lies ahead. Rounded up, so the
    // callback never runs before the time Avahi asked for.
    const AvahiUsec ahead = -avahi_age(tv);
    const qint64 ms = ahead > 0 ? (ahead + 999) / 1000 : 0;
    timeout->timer->start(int(qMin<qint64>(ms, std::numeric_limits<int>::max())));
}

AvahiTimeout *timeoutNew(const AvahiPoll *, const struct timeval *tv, AvahiTimeoutCallback callback, void *userdata)
{
    auto *timeout = new AvahiTimeout;
    timeout->callback = callback;
    timeout->userdata = userdata;
    timeout->timer = new QTimer;
    timeout->timer->setSingleShot(true);
    timeout->timer->setTimerType(Qt::PreciseTimer);
    QObject::connect(timeout->timer, &QTimer::timeout, timeout->timer, [timeout] {
        timeout->inCallback = true;
        timeout->callback(timeout, timeout->userdata);
        timeout->inCallback = false;
        if (timeout->freed)
            delete timeout;
    });
    timeoutUpdate(timeout, tv);
    return timeout;
}

void timeoutFree(AvahiTimeout *timeout)
{
    timeout->timer->stop();
    dropObject(timeout->timer, timeout->inCallback);
    timeout->timer = nullptr;
    if (timeout->inCallback)
        timeout->freed = true;
    else
        delete timeout;
}

} // namespace

QtAvahiPoll::QtAvahiPoll()
{
    m_api.userdata = this;
    m_api.watch_new = watchNew;
    m_api.watch_update = watchUpdate;
    m_api.watch_get_events = watchGetEvents;
    m_api.watch_free = watchFree;
    m_api.timeout_new = timeoutNew;
    m_api.timeout_update = timeoutUpdate;
    m_api.timeout_free = timeoutFree;
}

QtAvahiPoll::~QtAvahiPoll() = default;

} // namespace edgelens

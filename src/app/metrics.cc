#include "app/metrics.h"

#include "app/routes.h"

namespace latchkey::app {
namespace {

void counter_header(std::string& out, std::string_view name, std::string_view help,
                    std::string_view type = "counter") {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

}  // namespace

Metrics::Metrics()
    : labels_(route_labels()), endpoints_(std::make_unique<PerEndpoint[]>(labels_.size())) {}

void Metrics::observe(std::string_view endpoint, unsigned status, int64_t micros) {
  std::size_t e = 0;
  while (e + 1 < labels_.size() && labels_[e] != endpoint) ++e;
  auto& m = endpoints_[e];
  m.by_status[status < 600 ? status : 0].fetch_add(1, std::memory_order_relaxed);
  m.count.fetch_add(1, std::memory_order_relaxed);
  m.sum_us.fetch_add(static_cast<uint64_t>(micros < 0 ? 0 : micros), std::memory_order_relaxed);
  for (std::size_t i = 0; i < kBucketsUs.size(); ++i) {
    if (micros <= kBucketsUs[i]) {
      m.buckets[i].fetch_add(1, std::memory_order_relaxed);
      break;
    }
  }
}

void Metrics::emit(const Event& e) {
  const auto type = static_cast<std::size_t>(e.type);
  if (type >= events_.size()) return;
  events_[type].fetch_add(1, std::memory_order_relaxed);
  if (e.type == EventType::token_issued) {
    std::size_t i = 0;
    while (i < kGrants.size() && kGrants[i] != e.detail) ++i;
    tokens_issued_[i].fetch_add(1, std::memory_order_relaxed);
  }
}

void Metrics::connection_refused_per_address() {
  refused_per_address_.fetch_add(1, std::memory_order_relaxed);
}

std::string Metrics::render() const {
  std::string out;
  out.reserve(8192);
  counter_header(out, "latchkey_http_requests_total", "HTTP requests by endpoint and status.");
  for (std::size_t e = 0; e < labels_.size(); ++e) {
    for (std::size_t s = 0; s < 600; ++s) {
      uint64_t n = endpoints_[e].by_status[s].load(std::memory_order_relaxed);
      if (n == 0) continue;
      out += "latchkey_http_requests_total{endpoint=\"";
      out += labels_[e];
      out += "\",status=\"" + std::to_string(s) + "\"} " + std::to_string(n) + "\n";
    }
  }
  counter_header(out, "latchkey_http_request_duration_seconds",
                 "Time from a parsed request to its final response (a token response "
                 "includes the wait for its durable write), by endpoint.",
                 "histogram");
  for (std::size_t e = 0; e < labels_.size(); ++e) {
    const auto& m = endpoints_[e];
    uint64_t count = m.count.load(std::memory_order_relaxed);
    if (count == 0) continue;
    std::string label = "endpoint=\"" + std::string(labels_[e]) + "\"";
    uint64_t cumulative = 0;
    for (std::size_t i = 0; i < kBucketsUs.size(); ++i) {
      cumulative += m.buckets[i].load(std::memory_order_relaxed);
      out += "latchkey_http_request_duration_seconds_bucket{" + label + ",le=\"" +
             std::to_string(static_cast<double>(kBucketsUs[i]) / 1e6) + "\"} " +
             std::to_string(cumulative) + "\n";
    }
    out += "latchkey_http_request_duration_seconds_bucket{" + label + ",le=\"+Inf\"} " +
           std::to_string(count) + "\n";
    out += "latchkey_http_request_duration_seconds_sum{" + label + "} " +
           std::to_string(static_cast<double>(m.sum_us.load(std::memory_order_relaxed)) / 1e6) +
           "\n";
    out += "latchkey_http_request_duration_seconds_count{" + label + "} " + std::to_string(count) +
           "\n";
  }
  // A counter for each event type that has one (core/events.h names them); tokens issued by
  // grant type.
  for (EventType type : kEventTypes) {
    const EventNames names = names_of(type);
    if (names.metric.empty()) continue;
    counter_header(out, names.metric, names.metric_help);
    if (type != EventType::token_issued) {
      out += names.metric;
      out += " " + std::to_string(events_[static_cast<std::size_t>(type)].load()) + "\n";
      continue;
    }
    for (std::size_t i = 0; i <= kGrants.size(); ++i) {
      out += names.metric;
      out += "{grant_type=\"";
      out += i < kGrants.size() ? kGrants[i] : "other";
      out += "\"} " + std::to_string(tokens_issued_[i].load(std::memory_order_relaxed)) + "\n";
    }
  }
  counter_header(out, "latchkey_connections_refused_total",
                 "Connections closed at once, by why: per_address, over "
                 "--max-connections-per-address.");
  out += "latchkey_connections_refused_total{reason=\"per_address\"} " +
         std::to_string(refused_per_address_.load()) + "\n";
  return out;
}

}  // namespace latchkey::app

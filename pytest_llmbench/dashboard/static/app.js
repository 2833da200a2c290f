// The dashboard's page: every value from the server goes into the page as text (textContent),
// never as markup, but for one thing: the live chart, which is the HTML report's own SVG markup
// (drawn by its chart code on the server, every string escaped there, as in the static report).
// Every change is a fetch with a JSON body (PUT, POST, DELETE), never a GET.
(function () {
  "use strict";

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }

  function row(cells) {
    var tr = document.createElement("tr");
    cells.forEach(function (cell) {
      if (cell instanceof Node) {
        var td = document.createElement("td");
        td.appendChild(cell);
        tr.appendChild(td);
      } else {
        tr.appendChild(el("td", cell));
      }
    });
    return tr;
  }

  function call(method, path, body) {
    var options = { method: method, headers: {} };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(path, options).then(function (answer) {
      return answer.json().catch(function () { return {}; }).then(function (data) {
        if (!answer.ok) {
          var detail = data && data.detail;
          throw new Error(typeof detail === "string" ? detail : answer.status + " " + answer.statusText);
        }
        return data;
      });
    });
  }

  function say(node, text, bad) {
    node.textContent = text;
    node.className = bad ? "result problem" : "result";
  }

  function button(text, onClick, quiet) {
    var b = el("button", text, quiet ? "quiet" : "");
    b.type = "button";
    b.addEventListener("click", onClick);
    return b;
  }

  // -- tabs ------------------------------------------------------------------------------------
  document.querySelectorAll("nav button").forEach(function (tab) {
    tab.addEventListener("click", function () {
      document.querySelectorAll("nav button").forEach(function (t) { t.classList.remove("on"); });
      tab.classList.add("on");
      document.querySelectorAll("main > section").forEach(function (s) {
        s.hidden = s.id !== tab.getAttribute("data-tab");
      });
      if (tab.getAttribute("data-tab") === "history") loadHistory();
    });
  });

  // -- targets ---------------------------------------------------------------------------------
  var targetBody = document.querySelector("#target-table tbody");
  var providerSelect = document.querySelector("#add-model select[name=provider]");
  var editSelect = document.querySelector("#edit-provider select[name=provider]");
  var modelSelect = document.querySelector("#edit-model select[name=model]");
  var runTargets = document.getElementById("run-targets");

  function loadTargets() {
    return call("GET", "/api/targets").then(function (found) {
      var problem = document.getElementById("config-error");
      problem.hidden = !found.error;
      problem.textContent = found.error || "";
      targetBody.replaceChildren();
      providerSelect.replaceChildren();
      editSelect.replaceChildren();
      modelSelect.replaceChildren();
      runTargets.querySelectorAll("label").forEach(function (l) { l.remove(); });
      found.providers.forEach(function (provider) {
        providerSelect.appendChild(el("option", provider.name));
        editSelect.appendChild(el("option", provider.name));
        var key = provider.key_env ? provider.key_env + (provider.key_set ? " (set)" : " (not set)") : "no key";
        provider.models.forEach(function (model, index) {
          var choice = el("option", provider.name + "/" + model.id);
          choice.value = JSON.stringify([provider.name, model.id]);
          modelSelect.appendChild(choice);
          var actions = el("span");
          var remove = button("remove", function () {
            call("DELETE", "/api/config/providers/" + encodeURIComponent(provider.name) +
                 "/models/" + encodeURIComponent(model.id)).then(loadTargets, function (e) {
              say(document.querySelector("#add-model .result"), e.message, true);
            });
          }, true);
          actions.appendChild(remove);
          if (index === 0) {
            actions.appendChild(button("remove provider", function () {
              call("DELETE", "/api/config/providers/" + encodeURIComponent(provider.name))
                .then(loadTargets, function (e) { say(document.querySelector("#add-provider .result"), e.message, true); });
            }, true));
          }
          targetBody.appendChild(row([provider.name, model.id, model.tiers.join(", "),
                                      model.context_window || "—", key, actions]));
          var pick = el("label");
          var box = document.createElement("input");
          box.type = "checkbox";
          box.name = "target";
          box.value = provider.name + "/" + model.id;
          pick.appendChild(box);
          pick.appendChild(document.createTextNode(provider.name + "/" + model.id));
          runTargets.appendChild(pick);
        });
      });
    });
  }

  document.getElementById("add-model").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target;
    var result = form.querySelector(".result");
    var fields = { id: form.elements.id.value.trim() };
    var window_ = form.elements.context_window.value.trim();
    if (window_) fields.context_window = Number(window_);
    call("POST", "/api/config/providers/" + encodeURIComponent(form.elements.provider.value) + "/models", fields)
      .then(function () { say(result, "added " + fields.id); form.elements.id.value = ""; return loadTargets(); },
            function (e) { say(result, e.message, true); });
  });

  document.getElementById("add-provider").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target;
    var result = form.querySelector(".result");
    var fields = { models: [{ id: form.elements.model.value.trim() }] };
    ["api_base", "api_key_env", "managed"].forEach(function (name) {
      var value = form.elements[name].value.trim();
      if (value) fields[name] = value;
    });
    var name = form.elements.name.value.trim();
    call("POST", "/api/config/providers", { name: name, fields: fields })
      .then(function () { say(result, "added " + name); return loadTargets().then(loadKeys); },
            function (e) { say(result, e.message, true); });
  });

  // the edit forms: one key of a provider or a model set (typed as the config wants it) or,
  // empty, removed; the plugin's loader judges the value
  var NUMBER_KEYS = ["max_tokens", "timeout_s", "context_window"];

  function typed(key, text) {
    if (text === "") return null;
    if (key === "skip_temperature") return text === "true";
    return NUMBER_KEYS.indexOf(key) >= 0 && !isNaN(Number(text)) ? Number(text) : text;
  }

  function editing(formId, pathOf) {
    document.getElementById(formId).addEventListener("submit", function (event) {
      event.preventDefault();
      var form = event.target;
      var result = form.querySelector(".result");
      var key = form.elements.key.value;
      var change = {};
      change[key] = typed(key, form.elements.value.value.trim());
      call("PUT", pathOf(form), change)
        .then(function () { say(result, "saved " + key); return loadTargets().then(loadKeys); },
              function (e) { say(result, e.message, true); });
    });
  }

  editing("edit-provider", function (form) {
    return "/api/config/providers/" + encodeURIComponent(form.elements.provider.value);
  });
  editing("edit-model", function (form) {
    var chosen = JSON.parse(form.elements.model.value);
    return "/api/config/providers/" + encodeURIComponent(chosen[0]) + "/models/" +
      encodeURIComponent(chosen[1]);
  });

  // -- keys ------------------------------------------------------------------------------------
  var keyBody = document.querySelector("#key-table tbody");
  var keyResult = document.getElementById("key-result");

  function loadKeys() {
    return call("GET", "/api/keys").then(function (keys) {
      keyBody.replaceChildren();
      keys.forEach(function (key) {
        var input = document.createElement("input");
        input.type = "password";
        input.autocomplete = "off";
        input.setAttribute("aria-label", "new value of " + key.name);
        var path = "/api/keys/" + encodeURIComponent(key.name);
        var actions = el("span");
        actions.appendChild(button("set", function () {
          call("PUT", path, { value: input.value }).then(function () {
            say(keyResult, key.name + " set");
            return loadKeys().then(loadTargets);
          }, function (e) { say(keyResult, e.message, true); });
        }));
        actions.appendChild(button("delete", function () {
          call("DELETE", path).then(function () {
            say(keyResult, key.name + " deleted");
            return loadKeys().then(loadTargets);
          }, function (e) { say(keyResult, e.message, true); });
        }, true));
        var state = key.set ? (key.in_environment ? "set (environment)" : "set") : "not set";
        keyBody.appendChild(row([key.name, state, key.hint || "", input, actions]));
      });
    });
  }

  // -- runs ------------------------------------------------------------------------------------
  var jobBody = document.querySelector("#job-table tbody");
  var liveBody = document.querySelector("#live-table tbody");
  var following = null;

  function numberOrNull(text) {
    var t = text.trim();
    return t === "" ? null : Number(t);
  }

  document.getElementById("run-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target;
    var result = form.querySelector(".result");
    var plan = {
      targets: Array.prototype.map.call(form.querySelectorAll("input[name=target]:checked"),
                                        function (b) { return b.value; }),
      keyword: form.elements.keyword.value.trim() || null,
      tiers: form.elements.tiers.value.split(",").map(function (t) { return t.trim(); })
        .filter(Boolean).map(Number),
      runs: numberOrNull(form.elements.runs.value),
      max_tokens: numberOrNull(form.elements.max_tokens.value),
      temperature: numberOrNull(form.elements.temperature.value),
      turns: numberOrNull(form.elements.turns.value),
      load: form.elements.load.value.trim() ? [form.elements.load.value.trim()] : [],
      baseline: form.elements.baseline.value || null,
      parallel_providers: form.elements.parallel_providers.checked
    };
    call("POST", "/api/jobs", plan).then(function (job) {
      say(result, "run " + job.number + " " + job.state);
      loadJobs();
      if (following === null) follow(job.number);
    }, function (e) { say(result, e.message, true); });
  });

  function loadJobs() {
    return call("GET", "/api/jobs").then(function (jobs) {
      jobBody.replaceChildren();
      jobs.forEach(function (job) {
        var cancel = job.state === "queued" || job.state === "running"
          ? button("cancel", function () { call("POST", "/api/jobs/" + job.number + "/cancel").then(loadJobs); }, true)
          : el("span");
        var state = el("span", job.state, job.state);
        jobBody.appendChild(row([job.number, state, job.command.join(" "), cancel]));
      });
      var next = jobs.filter(function (j) { return j.state === "queued" || j.state === "running"; })[0];
      if (following === null && next) follow(next.number);
    });
  }

  var chartDue = null;

  function redrawChart(number) {
    if (chartDue !== null) return;  // at most a redraw a second while tests pour in
    chartDue = window.setTimeout(function () {
      chartDue = null;
      call("GET", "/api/jobs/" + number + "/chart").then(function (found) {
        document.getElementById("live-chart").innerHTML = found.svg;
      });
    }, 1000);
  }

  function follow(number) {
    following = number;
    document.getElementById("live-chart").replaceChildren();
    liveBody.replaceChildren();
    document.getElementById("live-title").textContent = "Live: run " + number;
    document.getElementById("live-report").replaceChildren();
    document.getElementById("live-frame").hidden = true;
    var source = new EventSource("/api/jobs/" + number + "/stream");
    source.onmessage = function (message) {
      var event = JSON.parse(message.data);
      if (event.event === "test") {
        var figures = event.figures || {};
        var ttft = figures.ttft_ms !== undefined ? figures.ttft_ms : figures.ttft_p50_ms;
        var rate = figures.decode_tps !== undefined ? figures.decode_tps : figures.output_tps;
        liveBody.appendChild(row([event.test.split("::").pop(), el("span", event.outcome, event.outcome),
          ttft === undefined || ttft === null ? "" : Number(ttft).toFixed(1),
          rate === undefined || rate === null ? "" : Number(rate).toFixed(1), event.message || ""]));
        redrawChart(number);
      } else if (event.event === "load") {
        document.getElementById("live-load").textContent = event.target + " " + event.point + ": " +
          Number(event.elapsed_s).toFixed(0) + " s, " + event.done + " done, " + event.in_flight +
          " in flight, " + event.errors + " errors";
      } else if (event.event === "end") {
        var report = (event.files || []).filter(function (f) { return /\.json$/.test(f); })[0];
        if (report) {
          var stamp = report.split("/").pop().replace(/\.json$/, "");
          var link = el("a", "open the report of " + stamp);
          link.href = "/runs/" + encodeURIComponent(stamp);
          document.getElementById("live-report").replaceChildren(link);
          var frame = document.getElementById("live-frame");  // the report, opened in the page
          frame.src = link.href;
          frame.hidden = false;
        }
      }
    };
    source.addEventListener("state", function () {
      source.close();
      following = null;
      loadJobs();
      loadHistory();
    });
  }

  // -- history ---------------------------------------------------------------------------------
  function loadHistory() {
    return call("GET", "/api/runs").then(function (runs) {
      var body = document.querySelector("#run-table tbody");
      body.replaceChildren();
      var selects = document.querySelectorAll("#compare-form select, #run-form select[name=baseline]");
      selects.forEach(function (s) {
        s.querySelectorAll("option").forEach(function (o) { if (o.value) o.remove(); });
      });
      runs.forEach(function (run) {
        var link = el("a", run.stamp);
        link.href = "/runs/" + encodeURIComponent(run.stamp);
        var started = run.started ? String(run.started).slice(0, 19).replace("T", " ") : "";
        body.appendChild(row([link, started, (run.targets || []).join(", "),
                              run.failed === undefined ? "" : run.failed, run.gate || "—",
                              run.error || run.command || ""]));
        selects.forEach(function (s) {
          var option = el("option", run.stamp);
          option.value = run.stamp;
          s.appendChild(option);
        });
      });
    });
  }

  document.getElementById("compare-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target;
    window.location.href = "/compare?a=" + encodeURIComponent(form.elements.a.value) +
      "&b=" + encodeURIComponent(form.elements.b.value);
  });

  function showProblem(error) {
    var problem = document.getElementById("problem");
    problem.hidden = false;
    problem.textContent = error.message;
  }

  call("GET", "/api/project").then(function (project) {
    document.getElementById("project").textContent = project.config;
  }).catch(showProblem);
  loadTargets().then(loadKeys).then(loadJobs).then(loadHistory).catch(showProblem);
})();

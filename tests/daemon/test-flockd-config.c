/*
 * test-flockd-config.c -- table-driven tests of flockd's configuration
 * parser: every accepted form, every kind of bad config, and the exact
 * field each error names.
 *
 * JSON in the tables is written with single quotes, turned into double
 * quotes before parsing (no test string needs a literal single quote).
 */
#include "flock-test.h"
#include "daemon/flockd-config.h"

#include <sys/stat.h>
#include <unistd.h>

/* a valid group section reused by many cases */
#define GROUP "'group':{'type':'centralized','config':{}}"
#define PROV(config) "{'providers':[{'type':'flock','name':'p','provider_id':42,'config':" config "}]}"

typedef struct {
    const char* name;
    const char* json;
    bool        have_mpi;
    const char* error; /* NULL: must be accepted; else a substring of the error */
} config_case;

static const config_case cases[] = {
    /* ---- accepted ---- */
    {"seed join config",
     "{'libraries':['libflock-bedrock-module.so'],'providers':[{'type':'flock','name':'my_flock_"
     "provider','provider_id':42,'config':{'bootstrap':'join','file':'mygroup.flock','group':{'type':"
     "'centralized','config':{}}}}]}",
     false, NULL},
    {"spec section 7 example",
     "{'libraries':['libflock-bedrock-module.so'],'providers':[{'type':'flock','name':'my_flock_"
     "provider','provider_id':42,'config':{'bootstrap':['join','self'],'file':'mygroup.flock','group':"
     "{'type':'centralized','config':{'ping_timeout_ms':400.0,'ping_interval_ms':[800.0,1000.0],'ping_"
     "max_num_timeouts':2}}}}]}",
     false, NULL},
    {"self without file", PROV("{'bootstrap':'self'," GROUP "}"), false, NULL},
    {"libraries as object", "{'libraries':{'flock':'/opt/lib/libflock-bedrock-module.so'},'providers':[{'type':'flock','name':'p','config':{'bootstrap':'self'," GROUP "}}]}", false, NULL},
    {"no libraries, default provider id", "{'providers':[{'type':'flock','name':'p','config':{'bootstrap':'self'," GROUP "}}]}", false, NULL},
    {"static self", PROV("{'bootstrap':'self','group':{'type':'static'}}"), false, NULL},
    {"swim config", PROV("{'bootstrap':'self','group':{'type':'swim','config':{'protocol_period_ms':500,'ping_req_members':2}}}"), false, NULL},
    {"file bootstrap", PROV("{'bootstrap':'file','file':'g.flock'," GROUP "}"), false, NULL},
    {"view bootstrap", PROV("{'bootstrap':'view','view':{'members':[{'address':'na+sm://1-0','provider_id':42}],'metadata':{'k':'v'}},'group':{'type':'static'}}"), false, NULL},
    {"mpi with ranks", PROV("{'bootstrap':'mpi','mpi_ranks':[2,0,1]," GROUP "}"), true, NULL},
    {"mpi unavailable but self follows", PROV("{'bootstrap':['mpi','self']," GROUP "}"), false, NULL},
    {"static join then self", PROV("{'bootstrap':['join','self'],'file':'f','group':{'type':'static'}}"), false, NULL},
    {"pool dependency primary", "{'providers':[{'type':'flock','name':'p','dependencies':{'pool':'__primary__'},'config':{'bootstrap':'self'," GROUP "}}]}", false, NULL},
    {"pool dependency from margo", "{'margo':{'argobots':{'pools':[{'name':'my_pool','kind':'fifo_wait'}]}},'providers':[{'type':'flock','name':'p','dependencies':{'pool':'my_pool'},'config':{'bootstrap':'self'," GROUP "}}]}", false, NULL},
    {"two providers", "{'providers':[{'type':'flock','name':'a','provider_id':1,'config':{'bootstrap':'self','file':'g'," GROUP "}},{'type':'flock','name':'b','provider_id':2,'config':{'bootstrap':'join','file':'g'," GROUP "}}]}", false, NULL},
    {"gateway default", PROV("{'bootstrap':'self'," GROUP ",'gateway':{'type':'default','config':{}}}"), false, NULL},
    {"unknown config key is a warning", PROV("{'bootstrap':'self'," GROUP ",'credentials':'x'}"), false, NULL},
    {"whitespace and newlines", "\n{ 'providers' : [ { 'type' : 'flock' , 'name' : 'p' ,\n 'config' : { 'bootstrap' : 'self' , " GROUP " } } ] }\n\n", false, NULL},
    {"empty bedrock sections accepted", "{'ssg':[],'clients':[],'providers':[{'type':'flock','name':'p','config':{'bootstrap':'self'," GROUP "}}]}", false, NULL},
    {"tags", "{'providers':[{'type':'flock','name':'p','tags':['a','b'],'config':{'bootstrap':'self'," GROUP "}}]}", false, NULL},
    {"auth key file", PROV("{'bootstrap':'self'," GROUP ",'auth':{'key_file':'/etc/flock/key'}}"), false, NULL},
    {"centralized int timeouts", PROV("{'bootstrap':'self','group':{'type':'centralized','config':{'ping_timeout_ms':2000,'ping_interval_ms':1000,'primary_provider_id':3}}}"), false, NULL},
    {"centralized identity keys", PROV("{'bootstrap':'self','group':{'type':'centralized','config':{'group_id':'2f7191b0cdf11388','term':3,'failover':false}}}"), false, NULL},
    {"centralized bad group_id", PROV("{'bootstrap':'self','group':{'type':'centralized','config':{'group_id':'xyz'}}}"), false, "providers[0].config.group.config.group_id: expected 1 to 16 hex digits"},
    {"centralized bad failover", PROV("{'bootstrap':'self','group':{'type':'centralized','config':{'failover':1}}}"), false, "providers[0].config.group.config.failover: expected true or false"},
    {"centralized bad term", PROV("{'bootstrap':'self','group':{'type':'centralized','config':{'term':0}}}"), false, "providers[0].config.group.config.term: must be an integer between 1"},

    /* ---- bad JSON / top level ---- */
    {"empty text", "", false, "(config): invalid JSON"},
    {"truncated json", "{'providers':[", false, "(config): invalid JSON at line 1"},
    {"syntax error", "{'providers' [] }", false, "(config): invalid JSON at line 1, column 14"},
    {"trailing garbage", "{'providers':[]} x", false, "(config): invalid JSON at line 1, column 18"},
    {"trailing comma", "{'providers':[],}", false, "(config): invalid JSON"},
    {"top level array", "[1,2]", false, "(top level): expected an object, got an array"},
    {"missing providers", "{'libraries':['libflock-bedrock-module.so']}", false, "providers: missing"},
    {"providers not array", "{'providers':{}}", false, "providers: expected an array of providers, got an object"},
    {"empty providers", "{'providers':[]}", false, "providers: expected at least one provider"},
    {"non-empty bedrock section", "{'clients':[{'type':'yokan'}],'providers':[]}", false, "clients: not supported by flockd"},
    {"unknown top level key", "{'services':{},'providers':[]}", false, "services: not supported by flockd"},
    {"empty bedrock sections", "{'clients':[],'ssg':[],'abt_io':[],'mona':{},'providers':[]}", false, "providers: expected at least one provider"},
    {"unknown library", "{'libraries':['libflock-bedrock-module.so','libyokan-bedrock-module.so'],'providers':[]}", false, "libraries[1]: unknown library \"libyokan-bedrock-module.so\""},
    {"unknown library object", "{'libraries':{'yokan':'libyokan.so'},'providers':[]}", false, "libraries.yokan: unknown library"},
    {"library not string", "{'libraries':[3],'providers':[]}", false, "libraries[0]: expected a string, got an integer"},
    {"libraries wrong type", "{'libraries':'libflock-bedrock-module.so','providers':[]}", false, "libraries: expected an array"},
    {"margo wrong type", "{'margo':[],'providers':[]}", false, "margo: expected an object"},
    {"margo pool without name", "{'margo':{'argobots':{'pools':[{'kind':'fifo'}]}},'providers':[]}", false, "margo.argobots.pools[0].name: missing"},

    /* ---- provider entry ---- */
    {"provider not object", "{'providers':['flock']}", false, "providers[0]: expected an object, got a string"},
    {"missing type", "{'providers':[{'name':'p','config':{}}]}", false, "providers[0].type: missing"},
    {"wrong type", "{'providers':[{'type':'yokan','name':'p','config':{}}]}", false, "providers[0].type: unknown provider type \"yokan\""},
    {"type not string", "{'providers':[{'type':1,'name':'p','config':{}}]}", false, "providers[0].type: expected a string, got an integer"},
    {"missing name", "{'providers':[{'type':'flock','config':{}}]}", false, "providers[0].name: missing"},
    {"empty name", "{'providers':[{'type':'flock','name':'','config':{}}]}", false, "providers[0].name: must not be empty"},
    {"provider id string", "{'providers':[{'type':'flock','name':'p','provider_id':'42','config':{}}]}", false, "providers[0].provider_id: expected an integer, got a string"},
    {"provider id negative", "{'providers':[{'type':'flock','name':'p','provider_id':-1,'config':{}}]}", false, "providers[0].provider_id: must be an integer between 0 and 65534"},
    {"provider id too big", "{'providers':[{'type':'flock','name':'p','provider_id':65535,'config':{}}]}", false, "providers[0].provider_id: must be an integer between 0 and 65534"},
    {"provider id double", "{'providers':[{'type':'flock','name':'p','provider_id':4.2,'config':{}}]}", false, "providers[0].provider_id: expected an integer, got a number"},
    {"unknown provider key", "{'providers':[{'type':'flock','name':'p','cofig':{}}]}", false, "providers[0].cofig: unknown key"},
    {"duplicate names", "{'providers':[{'type':'flock','name':'a','provider_id':1,'config':{'bootstrap':'self'," GROUP "}},{'type':'flock','name':'a','provider_id':2,'config':{}}]}", false, "providers[1].name: \"a\" is already the name of providers[0]"},
    {"duplicate provider ids", "{'providers':[{'type':'flock','name':'a','provider_id':1,'config':{'bootstrap':'self'," GROUP "}},{'type':'flock','name':'b','provider_id':1,'config':{}}]}", false, "providers[1].provider_id: 1 is already the provider id of providers[0]"},
    {"dependencies not object", "{'providers':[{'type':'flock','name':'p','dependencies':[],'config':{}}]}", false, "providers[0].dependencies: expected an object"},
    {"unknown dependency", "{'providers':[{'type':'flock','name':'p','dependencies':{'db':'x'},'config':{}}]}", false, "providers[0].dependencies.db: unknown dependency"},
    {"pool as array", "{'providers':[{'type':'flock','name':'p','dependencies':{'pool':['a']},'config':{}}]}", false, "providers[0].dependencies.pool: expected a string"},
    {"unknown pool", "{'providers':[{'type':'flock','name':'p','dependencies':{'pool':'nope'},'config':{}}]}", false, "providers[0].dependencies.pool: unknown pool \"nope\""},
    {"tags not array", "{'providers':[{'type':'flock','name':'p','tags':'x','config':{}}]}", false, "providers[0].tags: expected an array of strings"},
    {"missing config", "{'providers':[{'type':'flock','name':'p'}]}", false, "providers[0].config: missing"},
    {"config not object", "{'providers':[{'type':'flock','name':'p','config':'self'}]}", false, "providers[0].config: expected an object, got a string"},

    /* ---- bootstrap ---- */
    {"missing bootstrap", PROV("{" GROUP "}"), false, "providers[0].config.bootstrap: missing"},
    {"bootstrap wrong type", PROV("{'bootstrap':1," GROUP "}"), false, "providers[0].config.bootstrap: expected a string or an array of strings, got an integer"},
    {"bootstrap object", PROV("{'bootstrap':{}," GROUP "}"), false, "providers[0].config.bootstrap: expected a string or an array of strings"},
    {"bootstrap empty list", PROV("{'bootstrap':[]," GROUP "}"), false, "providers[0].config.bootstrap: expected at least one bootstrap method"},
    {"bootstrap list element wrong type", PROV("{'bootstrap':['self',3]," GROUP "}"), false, "providers[0].config.bootstrap[1]: expected a string or an array of strings, got an integer"},
    {"unknown bootstrap", PROV("{'bootstrap':'magic'," GROUP "}"), false, "providers[0].config.bootstrap: unknown bootstrap method \"magic\""},
    {"unknown bootstrap in list", PROV("{'bootstrap':['self','magic']," GROUP "}"), false, "providers[0].config.bootstrap[1]: unknown bootstrap method \"magic\""},
    {"duplicate bootstrap", PROV("{'bootstrap':['self','self']," GROUP "}"), false, "providers[0].config.bootstrap[1]: bootstrap method \"self\" is listed twice"},
    {"join without file", PROV("{'bootstrap':'join'," GROUP "}"), false, "providers[0].config.file: missing (required by bootstrap method \"join\")"},
    {"file method without file", PROV("{'bootstrap':['file','self']," GROUP "}"), false, "providers[0].config.file: missing (required by bootstrap method \"file\")"},
    {"file not string", PROV("{'bootstrap':'self','file':3," GROUP "}"), false, "providers[0].config.file: expected a string, got an integer"},
    {"file empty", PROV("{'bootstrap':'join','file':''," GROUP "}"), false, "providers[0].config.file: must not be empty"},
    {"mpi unavailable", PROV("{'bootstrap':'mpi'," GROUP "}"), false, "providers[0].config.bootstrap: \"mpi\" is not available"},
    {"static join only", PROV("{'bootstrap':'join','file':'f','group':{'type':'static'}}"), false, "providers[0].config.bootstrap: \"join\" is impossible with the static backend"},
    {"mpi ranks not array", PROV("{'bootstrap':'mpi','mpi_ranks':3," GROUP "}"), true, "providers[0].config.mpi_ranks: expected an array of integers"},
    {"mpi ranks empty", PROV("{'bootstrap':'mpi','mpi_ranks':[]," GROUP "}"), true, "providers[0].config.mpi_ranks: expected at least one rank"},
    {"mpi ranks negative", PROV("{'bootstrap':'mpi','mpi_ranks':[0,-1]," GROUP "}"), true, "providers[0].config.mpi_ranks[1]: must be an integer between 0"},
    {"mpi ranks string", PROV("{'bootstrap':'mpi','mpi_ranks':['0']," GROUP "}"), true, "providers[0].config.mpi_ranks[0]: expected an integer, got a string"},
    {"mpi ranks duplicate", PROV("{'bootstrap':'mpi','mpi_ranks':[1,1]," GROUP "}"), true, "providers[0].config.mpi_ranks[1]: rank 1 is listed twice"},
    {"view method without view", PROV("{'bootstrap':'view'," GROUP "}"), false, "providers[0].config.view: missing (required by bootstrap method \"view\""},
    {"view not object", PROV("{'bootstrap':'view','view':[]," GROUP "}"), false, "providers[0].config.view: expected an object"},
    {"view without members", PROV("{'bootstrap':'view','view':{}," GROUP "}"), false, "providers[0].config.view.members: missing"},
    {"view empty members", PROV("{'bootstrap':'view','view':{'members':[]}," GROUP "}"), false, "providers[0].config.view.members: expected at least one member"},
    {"view member without address", PROV("{'bootstrap':'view','view':{'members':[{'provider_id':1}]}," GROUP "}"), false, "providers[0].config.view.members[0].address: missing"},
    {"view member bad pid", PROV("{'bootstrap':'view','view':{'members':[{'address':'a','provider_id':70000}]}," GROUP "}"), false, "providers[0].config.view.members[0].provider_id: must be an integer between 0 and 65535"},
    {"view metadata not string", PROV("{'bootstrap':'view','view':{'members':[{'address':'a','provider_id':1}],'metadata':{'k':null}}," GROUP "}"), false, "providers[0].config.view.metadata.k: expected a string, got null"},

    /* ---- group / gateway ---- */
    {"missing group", PROV("{'bootstrap':'self'}"), false, "providers[0].config.group: missing"},
    {"group not object", PROV("{'bootstrap':'self','group':'centralized'}"), false, "providers[0].config.group: expected an object"},
    {"group without type", PROV("{'bootstrap':'self','group':{'config':{}}}"), false, "providers[0].config.group.type: missing"},
    {"unknown backend", PROV("{'bootstrap':'self','group':{'type':'raft'}}"), false, "providers[0].config.group.type: unknown backend \"raft\""},
    {"group config not object", PROV("{'bootstrap':'self','group':{'type':'static','config':[]}}"), false, "providers[0].config.group.config: expected an object, got an array"},
    {"centralized bad timeout", PROV("{'bootstrap':'self','group':{'type':'centralized','config':{'ping_timeout_ms':'fast'}}}"), false, "providers[0].config.group.config.ping_timeout_ms: expected a number (milliseconds), got a string"},
    {"centralized negative timeout", PROV("{'bootstrap':'self','group':{'type':'centralized','config':{'ping_timeout_ms':-5.0}}}"), false, "providers[0].config.group.config.ping_timeout_ms: must be a number of milliseconds between 1 and 8.64e+07"},
    {"centralized interval wrong length", PROV("{'bootstrap':'self','group':{'type':'centralized','config':{'ping_interval_ms':[1.0,2.0,3.0]}}}"), false, "providers[0].config.group.config.ping_interval_ms: expected a number or an array of 2 numbers"},
    {"centralized interval min > max", PROV("{'bootstrap':'self','group':{'type':'centralized','config':{'ping_interval_ms':[9.0,2.0]}}}"), false, "providers[0].config.group.config.ping_interval_ms: min is greater than max"},
    {"centralized interval bool", PROV("{'bootstrap':'self','group':{'type':'centralized','config':{'ping_interval_ms':true}}}"), false, "providers[0].config.group.config.ping_interval_ms: expected a number or an array of 2 numbers [min, max], got a boolean"},
    {"centralized max timeouts zero", PROV("{'bootstrap':'self','group':{'type':'centralized','config':{'ping_max_num_timeouts':0}}}"), false, "providers[0].config.group.config.ping_max_num_timeouts: must be an integer between 1"},
    {"centralized primary pid", PROV("{'bootstrap':'self','group':{'type':'centralized','config':{'primary_provider_id':65535}}}"), false, "providers[0].config.group.config.primary_provider_id: must be an integer between 0 and 65534"},
    {"swim bad period", PROV("{'bootstrap':'self','group':{'type':'swim','config':{'protocol_period_ms':'1s'}}}"), false, "providers[0].config.group.config.protocol_period_ms: expected a number"},
    /* strict: every key type-checked and bounded (issue #19 item 7) */
    {"gateway null", PROV("{'bootstrap':'self'," GROUP ",'gateway':null}"), false, "providers[0].config.gateway: expected an object {\"type\": ..., \"config\": {...}}, got null"},
    {"group null", PROV("{'bootstrap':'self','group':null}"), false, "providers[0].config.group: expected an object {\"type\": ..., \"config\": {...}}, got null"},
    {"group config null", PROV("{'bootstrap':'self','group':{'type':'swim','config':null}}"), false, "providers[0].config.group.config: expected an object, got null"},
    {"auth integer", PROV("{'bootstrap':'self'," GROUP ",'auth':5}"), false, "providers[0].config.auth: expected an object {\"key_file\": \"<path>\"}, got an integer"},
    {"auth null", PROV("{'bootstrap':'self'," GROUP ",'auth':null}"), false, "providers[0].config.auth: expected an object {\"key_file\": \"<path>\"}, got null"},
    {"auth without key_file", PROV("{'bootstrap':'self'," GROUP ",'auth':{}}"), false, "providers[0].config.auth.key_file: missing"},
    {"auth key_file integer", PROV("{'bootstrap':'self'," GROUP ",'auth':{'key_file':1}}"), false, "providers[0].config.auth.key_file: expected a string, got an integer"},
    {"auth key_file empty", PROV("{'bootstrap':'self'," GROUP ",'auth':{'key_file':''}}"), false, "providers[0].config.auth.key_file: must not be empty"},
    {"auth unknown key", PROV("{'bootstrap':'self'," GROUP ",'auth':{'key_file':'k','key':'secret'}}"), false, "providers[0].config.auth.key: unknown key"},
    {"file null", PROV("{'bootstrap':'self','file':null," GROUP "}"), false, "providers[0].config.file: expected a string, got null"},
    {"provider id null", "{'providers':[{'type':'flock','name':'p','provider_id':null,'config':{}}]}", false, "providers[0].provider_id: expected an integer, got null"},
    {"swim period zero", PROV("{'bootstrap':'self','group':{'type':'swim','config':{'protocol_period_ms':0}}}"), false, "providers[0].config.group.config.protocol_period_ms: must be a number of milliseconds between 1 and"},
    {"swim ping timeout huge", PROV("{'bootstrap':'self','group':{'type':'swim','config':{'ping_timeout_ms':1e12}}}"), false, "providers[0].config.group.config.ping_timeout_ms: must be a number of milliseconds between 1 and"},
    {"swim ping_req_members too many", PROV("{'bootstrap':'self','group':{'type':'swim','config':{'ping_req_members':100000}}}"), false, "providers[0].config.group.config.ping_req_members: must be an integer between 0 and 1000"},
    {"swim period null", PROV("{'bootstrap':'self','group':{'type':'swim','config':{'protocol_period_ms':null}}}"), false, "providers[0].config.group.config.protocol_period_ms: expected a number (milliseconds), got null"},
    {"centralized interval zero", PROV("{'bootstrap':'self','group':{'type':'centralized','config':{'ping_interval_ms':0}}}"), false, "providers[0].config.group.config.ping_interval_ms: must be a number of milliseconds between 1 and"},
    {"centralized interval pair zero", PROV("{'bootstrap':'self','group':{'type':'centralized','config':{'ping_interval_ms':[0,5]}}}"), false, "providers[0].config.group.config.ping_interval_ms[0]: must be a number of milliseconds between 1 and"},
    {"centralized interval pair string", PROV("{'bootstrap':'self','group':{'type':'centralized','config':{'ping_interval_ms':[1,'x']}}}"), false, "providers[0].config.group.config.ping_interval_ms[1]: expected a number (milliseconds), got a string"},
    {"centralized timeouts too many", PROV("{'bootstrap':'self','group':{'type':'centralized','config':{'ping_max_num_timeouts':5000}}}"), false, "providers[0].config.group.config.ping_max_num_timeouts: must be an integer between 1 and 1000"},
    {"centralized primary address null", PROV("{'bootstrap':'self','group':{'type':'centralized','config':{'primary_address':null}}}"), false, "providers[0].config.group.config.primary_address: expected a string, got null"},
    {"gateway not object", PROV("{'bootstrap':'self'," GROUP ",'gateway':'default'}"), false, "providers[0].config.gateway: expected an object"},
    {"unknown gateway", PROV("{'bootstrap':'self'," GROUP ",'gateway':{'type':'ngrok'}}"), false, "providers[0].config.gateway.type: unknown gateway \"ngrok\""},
    {"second provider error path", "{'providers':[{'type':'flock','name':'a','provider_id':1,'config':{'bootstrap':'self'," GROUP "}},{'type':'flock','name':'b','provider_id':2,'config':{'bootstrap':'join'," GROUP "}}]}", false, "providers[1].config.file: missing"},
};

static char* dequote(const char* s)
{
    char* d = strdup(s);
    for (char* p = d; *p; p++)
        if (*p == '\'') *p = '"';
    return d;
}

static void check_cases(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const config_case*    c    = &cases[i];
        char*                 json = dequote(c->json);
        flockd_config         cfg;
        char                  err[FLOCKD_MSG_LEN];
        flockd_config_options opts = {c->have_mpi, NULL, NULL};
        int rc = flockd__config_parse(json, strlen(json), &opts, &cfg, err, sizeof err);
        if (c->error == NULL) {
            if (rc != 0) FT_FAIL("case \"%s\": rejected: %s", c->name, err);
        } else if (rc == 0) {
            FT_FAIL("case \"%s\": accepted, expected error containing '%s'", c->name, c->error);
        } else if (!strstr(err, c->error)) {
            FT_FAIL("case \"%s\": error '%s' does not contain '%s'", c->name, err, c->error);
        }
        if (rc != 0) CHECK_EQ_INT(cfg.num_providers, 0);
        flockd__config_free(&cfg);
        free(json);
    }
}

/* The parsed content of accepted configs. */
static void check_content(void)
{
    flockd_config cfg;
    char          err[FLOCKD_MSG_LEN];
    char*         json = dequote(
        "{'margo':{'argobots':{'pools':[{'name':'px'}]}},'providers':["
        "{'type':'flock','name':'a','provider_id':7,'dependencies':{'pool':'px'},'config':{"
        "'bootstrap':['join','self'],'file':'g.flock','group':{'type':'centralized','config':{'ping_"
        "timeout_ms':400.0}},'extra':1}},"
        "{'type':'flock','name':'b','config':{'bootstrap':['mpi','view','self'],'mpi_ranks':[3,1],"
        "'view':{'members':[{'address':'na+sm://1-0','provider_id':0}]},'group':{'type':'swim'}}}]}");
    flockd_config_options opts = {true, NULL, NULL};
    REQUIRE(flockd__config_parse(json, strlen(json), &opts, &cfg, err, sizeof err) == 0);
    REQUIRE(cfg.num_providers == 2);
    flockd_provider_config* a = &cfg.providers[0];
    CHECK_EQ_STR(a->name, "a");
    CHECK_EQ_INT(a->provider_id, 7);
    CHECK_EQ_STR(a->pool, "px");
    CHECK_EQ_INT(a->num_bootstrap, 2);
    CHECK_EQ_INT(a->bootstrap[0], FLOCKD_BOOTSTRAP_JOIN);
    CHECK_EQ_INT(a->bootstrap[1], FLOCKD_BOOTSTRAP_SELF);
    CHECK_EQ_STR(a->file, "g.flock");
    CHECK_EQ_STR(a->backend, "centralized");
    CHECK(a->view_json == NULL);
    CHECK(!a->has_mpi_ranks);
    CHECK_EQ_STR(a->config_json,
                 "{\"bootstrap\":[\"join\",\"self\"],\"file\":\"g.flock\",\"group\":{\"type\":"
                 "\"centralized\",\"config\":{\"ping_timeout_ms\":400.0}},\"extra\":1}");
    flockd_provider_config* b = &cfg.providers[1];
    CHECK_EQ_INT(b->provider_id, 0);
    CHECK(b->pool == NULL);
    CHECK(b->file == NULL);
    CHECK_EQ_INT(b->num_bootstrap, 3);
    CHECK_EQ_INT(b->bootstrap[0], FLOCKD_BOOTSTRAP_MPI);
    CHECK_EQ_INT(b->bootstrap[1], FLOCKD_BOOTSTRAP_VIEW);
    CHECK(b->has_mpi_ranks);
    CHECK_EQ_INT(b->num_mpi_ranks, 2);
    if (b->num_mpi_ranks == 2) {
        CHECK_EQ_INT(b->mpi_ranks[0], 1);
        CHECK_EQ_INT(b->mpi_ranks[1], 3);
    }
    CHECK_EQ_STR(b->view_json, "{\"members\":[{\"address\":\"na+sm://1-0\",\"provider_id\":0}]}");
    CHECK(flockd__config_has_bootstrap(b, FLOCKD_BOOTSTRAP_VIEW));
    CHECK(!flockd__config_has_bootstrap(b, FLOCKD_BOOTSTRAP_JOIN));
    /* warnings: the margo section, the unknown "extra" key */
    bool saw_extra = false, saw_margo = false;
    for (size_t i = 0; i < cfg.num_warnings; i++) {
        if (strstr(cfg.warnings[i], "providers[0].config.extra: unknown key")) saw_extra = true;
        if (strncmp(cfg.warnings[i], "margo:", 6) == 0) saw_margo = true;
    }
    CHECK(saw_extra);
    CHECK(saw_margo);
    flockd__config_free(&cfg);
    flockd__config_free(&cfg); /* idempotent */
    free(json);

    /* warnings for impossible-but-not-only methods */
    json = dequote(PROV("{'bootstrap':['mpi','self'],'mpi_ranks':[0]," GROUP "}"));
    REQUIRE(flockd__config_parse(json, strlen(json), NULL, &cfg, err, sizeof err) == 0);
    bool saw_mpi = false;
    for (size_t i = 0; i < cfg.num_warnings; i++)
        if (strstr(cfg.warnings[i], "\"mpi\" is not available")) saw_mpi = true;
    CHECK(saw_mpi);
    flockd__config_free(&cfg);
    free(json);

    /* the documented provider key "auth" is known: no "unknown key" warning */
    json = dequote(PROV("{'bootstrap':'self'," GROUP ",'auth':{'key_file':'k.key'}}"));
    REQUIRE(flockd__config_parse(json, strlen(json), NULL, &cfg, err, sizeof err) == 0);
    CHECK_EQ_INT((int)cfg.num_warnings, 0);
    flockd__config_free(&cfg);
    free(json);
}

/* flockd__config_load: a FIFO or a directory at the config path is refused
 * at once (O_NONBLOCK + fstat), never waited on (issue #19 item 5). */
static void check_non_regular(void)
{
    flockd_config cfg;
    char          err[FLOCKD_MSG_LEN];
    char          dir[] = "/tmp/flockd-config-XXXXXX", fifo[64];
    REQUIRE(mkdtemp(dir) != NULL);
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    REQUIRE(mkfifo(fifo, 0600) == 0);
    CHECK_EQ_INT(flockd__config_load(fifo, NULL, &cfg, err, sizeof err), -1);
    CHECK(strstr(err, "not a regular file (a FIFO)") != NULL);
    CHECK_EQ_INT(flockd__config_load(dir, NULL, &cfg, err, sizeof err), -1);
    CHECK(strstr(err, "not a regular file (a directory)") != NULL);
    unlink(fifo);
    rmdir(dir);
}

/* Inputs that are not NUL-terminated, contain NULs, or come from files. */
static void check_edges(void)
{
    flockd_config cfg;
    char          err[FLOCKD_MSG_LEN];
    char*         json = dequote(PROV("{'bootstrap':'self'," GROUP "}"));
    size_t        len  = strlen(json);
    /* not NUL-terminated: parse only a prefix that is a complete document */
    char* buf = malloc(len + 10);
    memcpy(buf, json, len);
    memcpy(buf + len, "garbage!!", 9);
    CHECK(flockd__config_parse(buf, len, NULL, &cfg, err, sizeof err) == 0);
    flockd__config_free(&cfg);
    /* an embedded NUL byte */
    buf[5] = 0;
    CHECK(flockd__config_parse(buf, len, NULL, &cfg, err, sizeof err) != 0);
    CHECK(strstr(err, "NUL") != NULL);
    free(buf);
    /* NULL error buffer is allowed */
    CHECK(flockd__config_parse("[]", 2, NULL, &cfg, NULL, 0) != 0);
    /* tiny error buffer: truncated, still terminated */
    char small[8];
    CHECK(flockd__config_parse("[]", 2, NULL, &cfg, small, sizeof small) != 0);
    CHECK(strlen(small) < sizeof small);

    /* very long keys: messages are truncated, never overflow */
    char longkey[600];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = 0;
    char* big = malloc(2048);
    snprintf(big, 2048,
             "{\"providers\":[{\"type\":\"flock\",\"name\":\"p\",\"config\":{\"bootstrap\":"
             "\"self\",\"group\":{\"type\":\"static\"},\"%s\":1}}]}",
             longkey);
    CHECK(flockd__config_parse(big, strlen(big), NULL, &cfg, err, sizeof err) == 0);
    CHECK(cfg.num_warnings >= 1);
    flockd__config_free(&cfg);
    snprintf(big, 2048, "{\"providers\":[{\"type\":\"flock\",\"name\":\"p\",\"%s\":1}]}", longkey);
    CHECK(flockd__config_parse(big, strlen(big), NULL, &cfg, err, sizeof err) != 0);
    CHECK(strncmp(err, "providers[0].kkk", 16) == 0);
    free(big);

    /* files */
    char path[1024];
    snprintf(path, sizeof path, "%s/c.json", ft_tmpdir());
    CHECK(flockd__config_load(path, NULL, &cfg, err, sizeof err) != 0);
    CHECK(strstr(err, "cannot open") != NULL && strstr(err, path) != NULL);
    FILE* f = fopen(path, "w");
    REQUIRE(f);
    fputs(json, f);
    fclose(f);
    CHECK(flockd__config_load(path, NULL, &cfg, err, sizeof err) == 0);
    CHECK_EQ_INT(cfg.num_providers, 1);
    flockd__config_free(&cfg);
    free(json);

    /* log levels */
    CHECK_EQ_INT(flockd__parse_log_level("trace"), 1);
    CHECK_EQ_INT(flockd__parse_log_level("DEBUG"), 2);
    CHECK_EQ_INT(flockd__parse_log_level("info"), 3);
    CHECK_EQ_INT(flockd__parse_log_level("warning"), 4);
    CHECK_EQ_INT(flockd__parse_log_level("warn"), 4);
    CHECK_EQ_INT(flockd__parse_log_level("error"), 5);
    CHECK_EQ_INT(flockd__parse_log_level("critical"), 6);
    CHECK_EQ_INT(flockd__parse_log_level("loud"), -1);
    CHECK_EQ_INT(flockd__parse_log_level(NULL), -1);
    CHECK_EQ_STR(flockd__bootstrap_name(FLOCKD_BOOTSTRAP_MPI), "mpi");
    CHECK_EQ_STR(flockd__bootstrap_name(FLOCKD_BOOTSTRAP_COUNT), "?");
}

int main(void)
{
    check_cases();
    check_content();
    check_edges();
    check_non_regular();
    return FT_DONE();
}
